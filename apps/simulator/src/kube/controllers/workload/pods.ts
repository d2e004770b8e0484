import { createHash } from 'node:crypto';
import type { KubeObject, OwnerReference } from '../../types';
import { type Condition, type Container, podSpec, type PodTemplate, timestamp } from './model';
import { randomSuffix } from './names';

/**
 * Pods as their controllers create them and as the kubelet reports them. A pod goes
 * Pending (unscheduled) -> Pending on a node (ContainerCreating) -> Running and Ready; the
 * statuses carry what `kubectl get pods -o wide` and `kubectl describe` show.
 */

export function podFromTemplate(options: {
  template: PodTemplate;
  namespace: string;
  generateName: string;
  owner: OwnerReference;
  labels?: Record<string, string>;
  spec?: Record<string, unknown>;
}): KubeObject {
  const { template } = options;
  const labels = { ...template.metadata?.labels, ...options.labels };
  const metadata: KubeObject['metadata'] = {
    name: `${options.generateName}${randomSuffix()}`,
    generateName: options.generateName,
    namespace: options.namespace,
    labels,
    ownerReferences: [options.owner],
  };
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: withPodDefaults({ ...template.spec, ...options.spec }),
    status: { phase: 'Pending', qosClass: qosClass(template.spec?.containers ?? []) },
  };
}

/** The defaults the API server writes into a pod spec that kubectl and drain read back. */
function withPodDefaults(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    securityContext: {},
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
    ...spec,
  };
}

export function qosClass(containers: Container[]): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const withAny = containers.filter((c) => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length);
  if (withAny.length === 0) return 'BestEffort';
  const guaranteed = containers.every((c) => {
    const limits = c.resources?.limits ?? {};
    const requests = { ...limits, ...c.resources?.requests };
    return ['cpu', 'memory'].every((r) => limits[r] !== undefined && requests[r] === limits[r]);
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function scheduledCondition(now: Date): Condition {
  return { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(now) };
}

export function unschedulableCondition(message: string, now: Date): Condition {
  return { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: timestamp(now) };
}

/** On its node, pulling images: what `kubectl get pods` shows as ContainerCreating. */
export function creatingStatus(pod: KubeObject, node: KubeObject, now: Date): Record<string, unknown> {
  const at = timestamp(now);
  const hostIP = internalIP(node);
  return {
    ...pod.status,
    phase: 'Pending',
    hostIP,
    hostIPs: [{ ip: hostIP }],
    startTime: at,
    conditions: [
      condition('PodReadyToStartContainers', 'False', at),
      condition('Initialized', 'True', at),
      { ...condition('Ready', 'False', at), reason: 'ContainersNotReady', message: `containers with unready status: [${containerNames(pod).join(' ')}]` },
      {
        ...condition('ContainersReady', 'False', at),
        reason: 'ContainersNotReady',
        message: `containers with unready status: [${containerNames(pod).join(' ')}]`,
      },
      (pod.status?.['conditions'] as Condition[] | undefined)?.find((c) => c.type === 'PodScheduled') ?? scheduledCondition(now),
    ],
    containerStatuses: (podSpec(pod).containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: false,
      restartCount: 0,
      started: false,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
    })),
  };
}

/** Running, every container started and ready. */
export function runningStatus(pod: KubeObject, node: KubeObject, podIP: string, now: Date): Record<string, unknown> {
  const at = timestamp(now);
  const hostIP = internalIP(node);
  const scheduled = (pod.status?.['conditions'] as Condition[] | undefined)?.find((c) => c.type === 'PodScheduled') ?? scheduledCondition(now);
  const startTime = (pod.status?.['startTime'] as string | undefined) ?? at;
  const ip = podSpec(pod).hostNetwork ? hostIP : podIP;
  return {
    ...pod.status,
    phase: 'Running',
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime,
    conditions: [
      condition('PodReadyToStartContainers', 'True', at),
      condition('Initialized', 'True', startTime),
      condition('Ready', 'True', at),
      condition('ContainersReady', 'True', at),
      scheduled,
    ],
    containerStatuses: (podSpec(pod).containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: imageID(c.image ?? ''),
      containerID: `containerd://${createHash('sha256')
        .update(`${pod.metadata.uid ?? pod.metadata.name}/${c.name}`)
        .digest('hex')}`,
      ready: true,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: at } },
      lastState: {},
    })),
  };
}

/** The lowest address of the node's pod CIDR that no other pod on it holds (hosts .2 to .254 of a /24). */
export function allocatePodIP(node: KubeObject, taken: Set<string>): string {
  const cidr = (node.spec?.['podCIDR'] as string | undefined) ?? '10.42.0.0/24';
  const prefix = cidr.split('/')[0]!.split('.').slice(0, 3).join('.');
  for (let host = 2; host < 255; host++) {
    const ip = `${prefix}.${host}`;
    if (!taken.has(ip)) return ip;
  }
  return `${prefix}.254`;
}

export function internalIP(node: KubeObject): string {
  const addresses = (node.status?.['addresses'] as { type: string; address: string }[] | undefined) ?? [];
  return addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
}

function condition(type: string, status: Condition['status'], at: string): Condition {
  return { type, status, lastProbeTime: null, lastTransitionTime: at };
}

function containerNames(pod: KubeObject): string[] {
  return (podSpec(pod).containers ?? []).map((c) => c.name);
}

function imageID(image: string): string {
  const name = image.split('@')[0]!.replace(/:[^/:]+$/, '');
  const qualified = name.includes('/') && /[.:]/.test(name.split('/')[0]!) ? name : `docker.io/${name.includes('/') ? name : `library/${name}`}`;
  return `${qualified}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}

/** Annotations a pod (template) may carry to script its emulated run: how long it runs, and how it exits. */
export const RUN_SECONDS_ANNOTATION = 'simulator.capstan.io/run-seconds';
export const EXIT_CODE_ANNOTATION = 'simulator.capstan.io/exit-code';

/**
 * How long a pod that is meant to end (restartPolicy Never or OnFailure: Jobs' pods, `kubectl run
 * --restart=Never`) runs before its containers exit, in milliseconds, or null for pods that run
 * until deleted. Emulated containers do nothing, so they finish after the start-up time unless
 * the `run-seconds` annotation asks for longer.
 */
export function runTimeMs(pod: KubeObject, startupMs: number): number | null {
  const policy = (podSpec(pod).restartPolicy as string | undefined) ?? 'Always';
  if (policy === 'Always') return null;
  const seconds = Number(pod.metadata.annotations?.[RUN_SECONDS_ANNOTATION]);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : startupMs;
}

/** The exit code the `exit-code` annotation asks for; 0 otherwise. */
export function exitCodeOf(pod: KubeObject): number {
  const code = Number.parseInt(pod.metadata.annotations?.[EXIT_CODE_ANNOTATION] ?? '0', 10);
  return Number.isNaN(code) ? 0 : code;
}

/** Every container exited: Succeeded (exit 0, Completed) or Failed (Error), as the kubelet reports it. */
export function finishedStatus(pod: KubeObject, exitCode: number, now: Date): Record<string, unknown> {
  const at = timestamp(now);
  const succeeded = exitCode === 0;
  const reason = succeeded ? 'Completed' : 'Error';
  const previous =
    (pod.status?.['containerStatuses'] as { name: string; containerID?: string; state?: { running?: { startedAt?: string } } }[] | undefined) ?? [];
  const notReady = (type: string): Condition => ({ ...condition(type, 'False', at), reason: 'PodCompleted' });
  return {
    ...pod.status,
    phase: succeeded ? 'Succeeded' : 'Failed',
    conditions: [
      condition('PodReadyToStartContainers', 'False', at),
      { ...condition('Initialized', 'True', (pod.status?.['startTime'] as string | undefined) ?? at), reason: 'PodCompleted' },
      notReady('Ready'),
      notReady('ContainersReady'),
      (pod.status?.['conditions'] as Condition[] | undefined)?.find((c) => c.type === 'PodScheduled') ?? scheduledCondition(now),
    ],
    containerStatuses: previous.map((c) => ({
      ...c,
      ready: false,
      started: false,
      state: { terminated: { exitCode, reason, startedAt: c.state?.running?.startedAt ?? at, finishedAt: at, containerID: c.containerID } },
    })),
  };
}
