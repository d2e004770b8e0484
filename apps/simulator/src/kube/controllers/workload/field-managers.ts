/**
 * The managers the emulated cluster components write as, so their writes show in managedFields
 * under the names kube-apiserver records for the real ones (`kubectl get -o yaml
 * --show-managed-fields`), status writes with `subresource: status`.
 */
export const KUBE_CONTROLLER_MANAGER = { fieldManager: 'kube-controller-manager' } as const;
export const KUBELET = { fieldManager: 'kubelet' } as const;
export const KUBE_SCHEDULER = { fieldManager: 'kube-scheduler' } as const;
