/**
 * What an emulated workload cluster does by itself, as `EmulatedController`s for role `workload`
 * and subresource handlers. See each module's header for the upstream behaviour it follows.
 *
 * Controllers (`WORKLOAD_CONTROLLER_STEPS`, run in one pass by `workloadClusterController`,
 * which is what `WORKLOAD_CONTROLLERS` hands the runner):
 * - cluster-bootstrap: kube-system workloads per distribution once a node joins; `default`
 *   ServiceAccount and `kube-root-ca.crt` in every new namespace;
 * - node-taints: a cordon carries the `unschedulable` taint;
 * - static-pods: the mirror pods of kube-proxy (and, on RKE2 server nodes, etcd and the control
 *   plane) that every node runs;
 * - deployments, replicasets, daemonsets: Deployment -> ReplicaSet -> Pods with rolling updates;
 *   one daemon pod per eligible node;
 * - cronjobs: Jobs at the schedule times of CronJobs (concurrencyPolicy, suspend,
 *   startingDeadlineSeconds, history limits);
 * - jobs: a Job's pods (parallelism, completions, backoffLimit, suspend), counted through the
 *   job-tracking finalizer, conditions SuccessCriteriaMet/Complete or FailureTarget/Failed;
 * - scheduler: binds pending pods to Ready nodes (nodeSelector, affinity, taints/tolerations),
 *   recording `Scheduled`/`FailedScheduling` Events (events.ts; deployments record `ScalingReplicaSet`);
 * - volumes: PersistentVolumeClaims bound to volumes the class's provisioner creates (at once, or
 *   for WaitForFirstConsumer once a pod using the claim is scheduled); RKE2 has `local-path`,
 *   GKE `standard-rwo` as default class;
 * - kubelet: starts pods (ContainerCreating -> Running/Ready), finishes graceful deletions,
 *   removes pods of deleted nodes and pods a NotReady node's NoExecute taint evicts;
 * - endpoints: Endpoints and EndpointSlices of Services (with a selector: from the pods; without:
 *   mirrored from Endpoints someone wrote; `default/kubernetes`: the API servers' addresses);
 * - disruption-budgets: PodDisruptionBudget status;
 * - resource-quotas: ResourceQuota status (hard and used; nothing is refused);
 * - serviceaccount-tokens: revokes a deleted ServiceAccount's tokens;
 * - event-ttl: deletes Events an hour (SIMULATOR_EVENT_TTL_SECONDS) after their last occurrence.
 * - helm-controller (its own slot): installs HelmCharts as Jobs and labelled Deployments.
 *
 * Subresources (`WORKLOAD_SUBRESOURCES`): `pods/eviction` (PodDisruptionBudgets decide, 429 with
 * the budget named when blocked), `serviceaccounts/token` (TokenRequest), `pods/log` (one line
 * per running container: emulated containers write nothing) and `scale` of
 * Deployments, ReplicaSets and StatefulSets (`kubectl scale`).
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
import { clusterBootstrapController } from './cluster-bootstrap';
import { cronJobController } from './cronjobs';
import { daemonSetController } from './daemonsets';
import { deploymentController } from './deployments';
import { disruptionBudgetController } from './disruption-budgets';
import { endpointsController } from './endpoints';
import { eventTtlController } from './events';
import { evictionSubresource } from './eviction';
import { helmControllerEmulation } from './helm-controller';
import { jobController } from './jobs';
import { kubeletController } from './kubelet';
import { podLogSubresource } from './logs';
import { nodeTaintController } from './node-taints';
import { replicaSetController } from './replicasets';
import { resourceQuotaController } from './resource-quotas';
import { markActive } from './runtime';
import { scaleSubresources } from './scale';
import { schedulerController } from './scheduler';
import { serviceAccountTokenController, tokenRequestSubresource } from './service-account-tokens';
import { staticPodController } from './static-pods';
import { volumeController } from './volumes';

export { deleteNode, isNodeReady, type NodeDescription, nodeObject, setNodeKubeletVersion, setNodeReady } from './nodes';
export { serviceAccountSubject } from './service-account-tokens';
export { systemObjects } from './system-workloads';

/** In the order one pass runs them: each step's writes are then seen by the next steps' reads. */
export const WORKLOAD_CONTROLLER_STEPS: readonly EmulatedController[] = [
  clusterBootstrapController,
  nodeTaintController,
  staticPodController,
  deploymentController,
  replicaSetController,
  daemonSetController,
  cronJobController,
  jobController,
  schedulerController,
  volumeController,
  kubeletController,
  endpointsController,
  disruptionBudgetController,
  resourceQuotaController,
  serviceAccountTokenController,
  eventTtlController,
];

/** The kinds the steps act on; changes to others (ConfigMaps, CRs) do not wake a cluster up. */
const WORKLOAD_KINDS = new Set([
  'Namespace',
  'Node',
  'Pod',
  'Deployment',
  'ReplicaSet',
  'DaemonSet',
  'StatefulSet',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Service',
  'Job',
  'CronJob',
  'PersistentVolumeClaim',
]);

/**
 * One controller for the runner: a pass runs every step in turn on a server. The runner then
 * keeps one slot per workload server instead of one per step, which is what a fleet of idle
 * servers costs on each tick; each step still decides for itself whether the event or tick
 * concerns it. A failing step does not stop the others; the first failure is reported.
 */
export const workloadClusterController: EmulatedController = {
  name: 'workload-cluster',
  roles: ['workload'],
  async reconcile(server, info, context) {
    if (context.event?.server === server.name && WORKLOAD_KINDS.has(context.event.object.kind)) markActive(server.name);
    let failure: unknown;
    for (const step of WORKLOAD_CONTROLLER_STEPS) {
      try {
        await step.reconcile(server, info, context);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  },
};

/**
 * helm-controller has a slot of its own: it acts on HelmCharts, which do not wake the workload
 * steps (WORKLOAD_KINDS), and on its own Deployment appearing (see helm-controller.ts).
 */
export const WORKLOAD_CONTROLLERS: readonly EmulatedController[] = [workloadClusterController, helmControllerEmulation];

export const WORKLOAD_SUBRESOURCES: readonly SubresourceRegistration[] = [
  evictionSubresource,
  tokenRequestSubresource,
  podLogSubresource,
  ...scaleSubresources,
];
