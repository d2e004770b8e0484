import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import {
  type Condition,
  conditionOf,
  controllerReference,
  DEPLOYMENT,
  isOwnedBy,
  isPodActive,
  isTerminating,
  POD,
  REPLICA_SET,
  refOf,
  replacing,
  replicasOf,
  sameJson,
  selectorOf,
  templateOf,
  timestamp,
} from './model';
import { templateHash } from './names';
import { fenceposts, maxUnavailable, planRecreateStep, planRollingStep, type ReplicaSetState, type RolloutSettings } from './rollout';
import { recordEvent } from './events';
import { createIfAbsent, deleteIfPresent, listOptions, racing, reconcileScope, wakeAfter } from './runtime';
import { KUBE_CONTROLLER_MANAGER } from './field-managers';

/**
 * Deployment -> ReplicaSets: the ReplicaSet of the current template (named
 * `<deployment>-<pod-template-hash>`), rolled out against the older ones by the strategy, the
 * revision annotations `kubectl rollout` reads, history trimmed to revisionHistoryLimit, and the
 * status `kubectl rollout status` waits on (observedGeneration, updated/ready/available replicas,
 * Available and Progressing conditions).
 */
const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const HASH = 'pod-template-hash';

export const deploymentController: EmulatedController = {
  name: 'workload/deployments',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    const scope = reconcileScope(server, context, ['Deployment', 'ReplicaSet'], 'workload/deployments');
    if (!scope) return;
    const sets = await server.list(REPLICA_SET.apiVersion, REPLICA_SET.kind, listOptions(scope));
    const deployments = await server.list(DEPLOYMENT.apiVersion, DEPLOYMENT.kind, listOptions(scope));
    for (const deployment of deployments) {
      if (isTerminating(deployment)) continue;
      await syncDeployment(
        server,
        deployment,
        sets.filter((rs) => isOwnedBy(rs, deployment)),
        context,
      );
    }
  },
};

export function rolloutSettings(deployment: KubeObject): RolloutSettings {
  const strategy =
    (deployment.spec?.['strategy'] as { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } } | undefined) ?? {};
  return {
    replicas: replicasOf(deployment),
    strategy: strategy.type === 'Recreate' ? 'Recreate' : 'RollingUpdate',
    maxSurge: strategy.rollingUpdate?.maxSurge ?? '25%',
    maxUnavailable: strategy.rollingUpdate?.maxUnavailable ?? '25%',
  };
}

async function syncDeployment(server: ApiServerClient, deployment: KubeObject, owned: KubeObject[], context: ControllerContext): Promise<void> {
  const now = context.now();
  const settings = rolloutSettings(deployment);
  const collisionCount = (deployment.status?.['collisionCount'] as number | undefined) ?? 0;
  const hash = templateHash(templateOf(deployment), collisionCount);
  const revisions = owned.map(revisionOf);
  const maxRevision = revisions.length ? Math.max(...revisions) : 0;
  let fresh = owned.find((rs) => rs.metadata.labels?.[HASH] === hash);
  const old = owned.filter((rs) => rs !== fresh);
  const paused = deployment.spec?.['paused'] === true;
  let createdFresh = false;
  let scaled = false;

  if (!fresh && !paused) {
    const planned = await plan(server, settings, { name: '', replicas: 0, available: 0, created: timestamp(now) }, old);
    const created = await createIfAbsent(server, newReplicaSet(deployment, hash, planned.get('') ?? 0, maxRevision + 1, settings));
    if (!created) {
      // The name is someone else's ReplicaSet (not ours, or a different template): count a collision, try another hash.
      const taken = await server.get({ ...REPLICA_SET, namespace: deployment.metadata.namespace!, name: `${deployment.metadata.name}-${hash}` });
      if (taken && !isOwnedBy(taken, deployment))
        await racing(() =>
          server.mergePatch(refOf(deployment), { status: { collisionCount: collisionCount + 1 } }, { ...KUBE_CONTROLLER_MANAGER, subresource: 'status' }),
        );
      return;
    }
    fresh = created;
    createdFresh = true;
    if (replicasOf(created) > 0) {
      const message = `Scaled up replica set ${created.metadata.name} from 0 to ${replicasOf(created)}`;
      await recordEvent(server, deployment, { type: 'Normal', reason: 'ScalingReplicaSet', message, component: 'deployment-controller', action: '', now });
    }
  } else if (fresh) {
    const annotations = freshAnnotations(deployment, fresh, maxRevision);
    if (annotations) fresh = (await racing(() => server.mergePatch(refOf(fresh!), { metadata: { annotations } }, KUBE_CONTROLLER_MANAGER))) ?? fresh;
  }
  if (fresh && !createdFresh && !paused) {
    const step = await plan(server, settings, stateOf(fresh), old);
    for (const rs of owned) {
      const replicas = step.get(rs.metadata.name);
      if (replicas === undefined) continue;
      scaled = true;
      const patched = await racing(() =>
        server.mergePatch(
          refOf(rs),
          {
            metadata: {
              annotations: {
                'deployment.kubernetes.io/desired-replicas': String(settings.replicas),
                'deployment.kubernetes.io/max-replicas': String(settings.replicas + fenceposts(settings).surge),
              },
            },
            spec: { replicas },
          },
          KUBE_CONTROLLER_MANAGER,
        ),
      );
      const before = replicasOf(rs);
      if (patched && replicas !== before) {
        const message = `Scaled ${replicas > before ? 'up' : 'down'} replica set ${rs.metadata.name} from ${before} to ${replicas}`;
        await recordEvent(server, deployment, { type: 'Normal', reason: 'ScalingReplicaSet', message, component: 'deployment-controller', action: '', now });
      }
    }
  }

  const revision = fresh ? String(revisionOf(fresh)) : undefined;
  if (revision && deployment.metadata.annotations?.[REVISION] !== revision) {
    await racing(() => server.mergePatch(refOf(deployment), { metadata: { annotations: { [REVISION]: revision } } }, KUBE_CONTROLLER_MANAGER));
  }
  const status = deploymentStatus(deployment, fresh, old, settings, { createdFresh, scaled, now });
  if (!sameJson(deployment.status ?? {}, status))
    await racing(() =>
      server.mergePatch(refOf(deployment), { status: replacing(deployment.status, status) }, { ...KUBE_CONTROLLER_MANAGER, subresource: 'status' }),
    );
  if (isComplete(deployment, status)) await trimHistory(server, deployment, old);
  else {
    const deadlineIn = progressDeadlineInMs(deployment, status, now);
    if (deadlineIn > 0) wakeAfter('workload/deployments', server.name, deadlineIn);
  }
}

async function plan(server: ApiServerClient, settings: RolloutSettings, fresh: ReplicaSetState, old: KubeObject[]) {
  const states = old.map(stateOf);
  return settings.strategy === 'Recreate'
    ? planRecreateStep(settings, fresh, states, await oldPodsRunning(server, old))
    : planRollingStep(settings, fresh, states);
}

async function oldPodsRunning(server: ApiServerClient, old: KubeObject[]): Promise<number> {
  if (old.length === 0) return 0;
  const pods = await server.list(POD.apiVersion, POD.kind, { namespace: old[0]!.metadata.namespace! });
  // Recreate waits for every old pod to be gone, terminating ones included.
  return pods.filter((pod) => old.some((rs) => isOwnedBy(pod, rs)) && (isPodActive(pod) || isTerminating(pod))).length;
}

/**
 * Annotations the deployment controller does not copy from a Deployment to its ReplicaSets (its
 * own bookkeeping, and kubectl's last-applied configuration); upstream's annotationsToSkip.
 */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** The Deployment's own annotations (`kubernetes.io/change-cause` above all), as the ReplicaSets of its revisions carry them. */
function copiedAnnotations(deployment: KubeObject): Record<string, string> {
  return Object.fromEntries(Object.entries(deployment.metadata.annotations ?? {}).filter(([key]) => !NOT_COPIED.has(key)));
}

/**
 * What the current template's ReplicaSet must be annotated with, or null when it already is: the
 * Deployment's annotations copied onto it (an annotation added after the rollout started still
 * reaches `kubectl rollout history`), and, when a rollback makes an older ReplicaSet current again,
 * the newest revision with the revisions it had before in `revision-history`.
 */
function freshAnnotations(deployment: KubeObject, fresh: KubeObject, maxRevision: number): Record<string, string> | null {
  const current = fresh.metadata.annotations ?? {};
  const wanted: Record<string, string> = {};
  for (const [key, value] of Object.entries(copiedAnnotations(deployment))) if (current[key] !== value) wanted[key] = value;
  const revision = revisionOf(fresh);
  if (revision < maxRevision) {
    wanted[REVISION] = String(maxRevision + 1);
    const history = current[REVISION_HISTORY];
    wanted[REVISION_HISTORY] = history ? `${history},${revision}` : String(revision);
  }
  return Object.keys(wanted).length ? wanted : null;
}

function newReplicaSet(deployment: KubeObject, hash: string, replicas: number, revision: number, settings: RolloutSettings): KubeObject {
  const template = templateOf(deployment);
  const selector = selectorOf(deployment) ?? {};
  const labels = { ...template.metadata?.labels, [HASH]: hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${deployment.metadata.name}-${hash}`,
      namespace: deployment.metadata.namespace!,
      labels,
      annotations: {
        ...copiedAnnotations(deployment),
        'deployment.kubernetes.io/desired-replicas': String(settings.replicas),
        'deployment.kubernetes.io/max-replicas': String(settings.replicas + fenceposts(settings).surge),
        [REVISION]: String(revision),
      },
      ownerReferences: [controllerReference(deployment)],
    },
    spec: {
      replicas,
      minReadySeconds: deployment.spec?.['minReadySeconds'] ?? 0,
      selector: { ...selector, matchLabels: { ...selector.matchLabels, [HASH]: hash } },
      template: { ...template, metadata: { ...template.metadata, labels } },
    },
  };
}

function stateOf(rs: KubeObject): ReplicaSetState {
  return {
    name: rs.metadata.name,
    replicas: replicasOf(rs),
    available: (rs.status?.['availableReplicas'] as number | undefined) ?? 0,
    created: rs.metadata.creationTimestamp ?? '',
  };
}

function revisionOf(rs: KubeObject): number {
  return Number.parseInt(rs.metadata.annotations?.[REVISION] ?? '0', 10) || 0;
}

const count = (rs: KubeObject | undefined, field: string) => (rs?.status?.[field] as number | undefined) ?? 0;

export function deploymentStatus(
  deployment: KubeObject,
  fresh: KubeObject | undefined,
  old: KubeObject[],
  settings: RolloutSettings,
  progress: { createdFresh: boolean; scaled: boolean; now: Date },
): Record<string, unknown> {
  const all = fresh ? [fresh, ...old] : old;
  const total = (field: string) => all.reduce((sum, rs) => sum + count(rs, field), 0);
  const available = total('availableReplicas');
  const desiredTotal = all.reduce((sum, rs) => sum + replicasOf(rs), 0);
  const status: Record<string, unknown> = {
    observedGeneration: deployment.metadata.generation ?? 1,
    replicas: total('replicas'),
    updatedReplicas: count(fresh, 'replicas'),
    readyReplicas: total('readyReplicas'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, desiredTotal - available),
  };
  if (deployment.status?.['collisionCount'] !== undefined) status['collisionCount'] = deployment.status['collisionCount'];
  for (const key of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) if (status[key] === 0) delete status[key];

  const at = timestamp(progress.now);
  const previous = (type: string) => conditionOf(deployment, type);
  const transition = (next: Omit<Condition, 'lastTransitionTime' | 'lastUpdateTime'>, touch: boolean): Condition => {
    const before = previous(next.type);
    const same = before && before.status === next.status && before.reason === next.reason && before.message === next.message;
    return {
      ...next,
      lastUpdateTime: same && !touch ? (before.lastUpdateTime ?? at) : at,
      lastTransitionTime: before && before.status === next.status ? (before.lastTransitionTime ?? at) : at,
    };
  };

  const minAvailable = settings.replicas - maxUnavailable(settings);
  const availableCondition = transition(
    available >= minAvailable
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
    false,
  );

  const name = fresh?.metadata.name ?? '';
  const countsMoved = ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'].some(
    (key) => (deployment.status?.[key] ?? 0) !== (status[key] ?? 0),
  );
  let progressing: Condition;
  if (isComplete(deployment, status)) {
    progressing = transition(
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}" has successfully progressed.` },
      false,
    );
  } else if (progress.createdFresh) {
    progressing = transition({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${name}"` }, true);
  } else if (progress.scaled || countsMoved || previous('Progressing')?.reason !== 'ReplicaSetUpdated') {
    const before = previous('Progressing');
    if (!progress.scaled && !countsMoved && before && timedOut(deployment, before, progress.now)) {
      progressing = transition(
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${name}" has timed out progressing.` },
        false,
      );
    } else {
      progressing = transition(
        { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${name}" is progressing.` },
        progress.scaled || countsMoved,
      );
    }
  } else {
    const before = previous('Progressing')!;
    progressing = timedOut(deployment, before, progress.now)
      ? transition(
          { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${name}" has timed out progressing.` },
          false,
        )
      : before;
  }
  status['conditions'] = [availableCondition, progressing];
  return status;
}

/** Until the Progressing condition would time out, for a sweep then. */
function progressDeadlineInMs(deployment: KubeObject, status: Record<string, unknown>, now: Date): number {
  const progressing = (status['conditions'] as Condition[]).find((c) => c.type === 'Progressing');
  const deadline = (deployment.spec?.['progressDeadlineSeconds'] as number | undefined) ?? 600;
  const since = Date.parse(progressing?.lastUpdateTime ?? '');
  return Number.isFinite(since) ? since + deadline * 1000 + 1000 - now.getTime() : deadline * 1000;
}

function timedOut(deployment: KubeObject, progressing: Condition, now: Date): boolean {
  if (progressing.reason === 'ProgressDeadlineExceeded') return true;
  const deadline = (deployment.spec?.['progressDeadlineSeconds'] as number | undefined) ?? 600;
  const since = Date.parse(progressing.lastUpdateTime ?? progressing.lastTransitionTime ?? '');
  return Number.isFinite(since) && now.getTime() - since > deadline * 1000;
}

/** What `kubectl rollout status` waits for: every replica updated and available, nothing old left. */
function isComplete(deployment: KubeObject, status: Record<string, unknown>): boolean {
  const replicas = replicasOf(deployment);
  const n = (key: string) => (status[key] as number | undefined) ?? 0;
  return (
    n('updatedReplicas') === replicas &&
    n('replicas') === replicas &&
    n('availableReplicas') === replicas &&
    n('observedGeneration') >= (deployment.metadata.generation ?? 1)
  );
}

async function trimHistory(server: ApiServerClient, deployment: KubeObject, old: KubeObject[]): Promise<void> {
  const limit = (deployment.spec?.['revisionHistoryLimit'] as number | undefined) ?? 10;
  const idle = old.filter((rs) => replicasOf(rs) === 0 && count(rs, 'replicas') === 0 && !isTerminating(rs)).sort((a, b) => revisionOf(a) - revisionOf(b));
  for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) await deleteIfPresent(server, refOf(rs));
}
