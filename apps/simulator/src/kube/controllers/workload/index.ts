/**
 * What an emulated workload cluster does by itself, as `EmulatedController`s for role `workload`
 * and subresource handlers. See each module's header for the upstream behaviour it follows.
 *
 * Controllers (`WORKLOAD_CONTROLLERS`, add them to the runner's list):
 * - cluster-bootstrap: system namespaces and kube-system workloads per distribution; `default`
 *   ServiceAccount and `kube-root-ca.crt` in every new namespace;
 * - node-taints: a cordon carries the `unschedulable` taint;
 * - static-pods: the mirror pods of kube-proxy (and, on RKE2 server nodes, etcd and the control
 *   plane) that every node runs;
 * - deployments, replicasets, daemonsets: Deployment -> ReplicaSet -> Pods with rolling updates;
 *   one daemon pod per eligible node;
 * - scheduler: binds pending pods to Ready nodes (nodeSelector, affinity, taints/tolerations);
 * - kubelet: starts pods (ContainerCreating -> Running/Ready), finishes graceful deletions,
 *   removes pods of deleted nodes and pods a NotReady node's NoExecute taint evicts;
 * - disruption-budgets: PodDisruptionBudget status;
 * - serviceaccount-tokens: revokes a deleted ServiceAccount's tokens.
 *
 * Subresources (`WORKLOAD_SUBRESOURCES`): `pods/eviction` (PodDisruptionBudgets decide, 429 with
 * the budget named when blocked) and `serviceaccounts/token` (TokenRequest).
 *
 * For whoever creates Nodes (the emulated Cluster API controllers, the GKE emulator):
 * - `nodeObject({ name, kubeletVersion, labels, taints, ready, providerID, unschedulable })`
 *   builds the Node a kubelet would register; `server.create(nodeObject(...))`.
 *   Control-plane nodes: pass labels `node-role.kubernetes.io/control-plane: 'true'` (RKE2 also
 *   `etcd` and `master`) for kubectl's ROLES column.
 * - `setNodeReady(server, name, ready)`: the kubelet stopped/resumed posting status (Ready
 *   Unknown + `unreachable` taints; pods without a toleration are evicted and replaced).
 * - `setNodeKubeletVersion(server, name, version)`: an in-place kubelet upgrade.
 * - `deleteNode(server, name)`: the machine is gone; its pods are removed and replaced.
 * - `isNodeReady(node)`.
 * Cordon/uncordon is `spec.unschedulable`, as kubectl does it.
 */
import type { SubresourceRegistration } from '../../subresources';
import type { EmulatedController } from '../../types';
import { clusterBootstrapController, nodeTaintController } from './cluster-bootstrap';
import { daemonSetController } from './daemonsets';
import { deploymentController } from './deployments';
import { disruptionBudgetController } from './disruption-budgets';
import { evictionSubresource } from './eviction';
import { kubeletController } from './kubelet';
import { replicaSetController } from './replicasets';
import { schedulerController } from './scheduler';
import { serviceAccountTokenController, tokenRequestSubresource } from './service-account-tokens';
import { staticPodController } from './static-pods';

export { deleteNode, isNodeReady, type NodeDescription, nodeObject, setNodeKubeletVersion, setNodeReady } from './nodes';
export { serviceAccountSubject } from './service-account-tokens';
export { systemObjects } from './system-workloads';

export const WORKLOAD_CONTROLLERS: readonly EmulatedController[] = [
  clusterBootstrapController,
  nodeTaintController,
  staticPodController,
  deploymentController,
  replicaSetController,
  daemonSetController,
  schedulerController,
  kubeletController,
  disruptionBudgetController,
  serviceAccountTokenController,
];

export const WORKLOAD_SUBRESOURCES: readonly SubresourceRegistration[] = [evictionSubresource, tokenRequestSubresource];
