import type { KubeObject, ObjectRef } from '../../types';
import { ANNOTATION, CONTROL_PLANE_API, FINALIZER, LABEL, field, isDeleting, isRecord, numberField, referenced, stringField, withoutV } from './api';
import { falseCondition, setConditions, summary, trueCondition, type ConditionInput } from './conditions';
import { kubeconfigSecret, kubeconfigSecretName } from './kubeconfig';
import { createMachine, isRunning } from './machines';
import { creationOrder, type ClusterPass } from './pass';
import { machineName, resolveFenceposts } from './rollout';

/**
 * CAPRKE2's RKE2ControlPlane: one control-plane Machine at a time (the first initialises the
 * cluster, the others join it), a rolling replacement when `spec.version` or the machine
 * template changes (surge `rolloutStrategy.rollingUpdate.maxSurge`, 1 by default), scale up and
 * down by `spec.replicas`. When the first server has booted, the workload API server exists and
 * the `<cluster>-kubeconfig` Secret is written; when a rollout is done, the API server reports the
 * new version.
 */
export interface ControlPlaneState {
  initialized: boolean;
  ready: boolean;
}

export async function reconcileControlPlane(pass: ClusterPass, cp: KubeObject, machines: KubeObject[]): Promise<ControlPlaneState> {
  const own = machines.filter((m) => m.metadata.labels?.[LABEL.controlPlaneName] === cp.metadata.name).sort(creationOrder);
  if (isDeleting(cp)) {
    for (const machine of own) if (!isDeleting(machine)) await pass.deleteIfPresent(refOfMachine(machine));
    if (own.length === 0) await pass.removeFinalizer(cp, FINALIZER.controlPlane);
    return stateOf(cp);
  }
  cp = await pass.addFinalizer(cp, FINALIZER.controlPlane);

  const replicas = numberField(cp, 'spec', 'replicas') ?? 1;
  const version = stringField(cp, 'spec', 'version');
  const template = referenced(cp, field(cp, 'spec', 'machineTemplate', 'infrastructureRef') ?? field(cp, 'spec', 'infrastructureRef'));
  const specKey = `${version ?? ''}/${template?.name ?? ''}`;
  const active = own.filter((m) => !isDeleting(m));
  const outdated = active.filter((m) => m.metadata.annotations?.[ANNOTATION.controlPlaneSpec] !== specKey);
  const infrastructureReady = pass.cluster.status?.infrastructureReady === true;

  // The first server to boot brings the API server up; CAPRKE2 then writes the kubeconfig.
  const booted = own.find((m) => m.status?.infrastructureReady === true);
  let apiServer = await pass.emulator.getApiServer(pass.clusterName);
  if (booted && !apiServer) {
    apiServer = await pass.emulator.ensureApiServer({
      name: pass.clusterName,
      role: 'workload',
      distribution: 'rke2',
      version: withoutV(stringField(booted, 'spec', 'version') ?? version ?? ''),
    });
  }
  if (apiServer) await ensureKubeconfig(pass);

  if (infrastructureReady && version && template) {
    const busy = own.some((m) => isDeleting(m)) || active.some((m) => !isRunning(m));
    const { maxSurge } = resolveFenceposts(replicas, field(cp, 'spec', 'rolloutStrategy', 'rollingUpdate', 'maxSurge') ?? 1, 0);
    const create = () => createControlPlaneMachine(pass, cp, own, version, template, specKey);
    if (active.length === 0) await create();
    else if (!busy && outdated.length > 0) {
      if (active.length < replicas + Math.min(maxSurge, 1)) await create();
      else await pass.deleteIfPresent(refOfMachine(outdated[0]!));
    } else if (!busy && active.length < replicas) await create();
    else if (!busy && active.length > replicas) await pass.deleteIfPresent(refOfMachine(active[0]!));
  }

  const running = active.filter(isRunning);
  const upToDate = active.length - outdated.length;
  const initialized = cp.status?.initialized === true || own.some((m) => isRecord(field(m, 'status', 'nodeRef')));
  const ready = cp.status?.ready === true || running.length > 0;
  const rolledOut = outdated.length === 0 && running.length === replicas && active.length === replicas;
  if (apiServer && version && rolledOut && apiServer.version !== withoutV(version)) {
    await pass.emulator.updateApiServer(pass.clusterName, { version: withoutV(version) });
  }

  const conditions: ConditionInput[] = [
    initialized ? trueCondition('Available') : falseCondition('Available', 'WaitingForRKE2Server', 'Info'),
    active.length === running.length
      ? trueCondition('MachinesReady')
      : falseCondition('MachinesReady', 'MachinesNotReady', 'Info', `${active.length - running.length} of ${active.length} machines are not ready`),
    outdated.length === 0
      ? trueCondition('MachinesSpecUpToDate')
      : falseCondition('MachinesSpecUpToDate', 'RollingUpdateInProgress', 'Warning', `Rolling ${outdated.length} replicas with outdated spec`),
    active.length === replicas
      ? trueCondition('Resized')
      : falseCondition(
          'Resized',
          active.length < replicas ? 'ScalingUp' : 'ScalingDown',
          'Warning',
          `${active.length < replicas ? 'Scaling up' : 'Scaling down'} control plane to ${replicas} replicas (actual ${active.length})`,
        ),
  ];
  await pass.patchStatus(cp, {
    replicas: own.length,
    updatedReplicas: upToDate,
    readyReplicas: running.length,
    unavailableReplicas: Math.max(0, own.length - running.length),
    initialized,
    ready,
    version: lowestVersion(active.map((m) => stringField(m, 'spec', 'version'))) ?? undefined,
    availableServerIPs: running.map((m) => stringField((m.status?.addresses as unknown[] | undefined)?.[0], 'address')).filter((a): a is string => Boolean(a)),
    observedGeneration: cp.metadata.generation,
    conditions: setConditions(cp.status?.conditions, [...conditions, summary(conditions)], pass.now),
  });
  return { initialized, ready };
}

function stateOf(cp: KubeObject): ControlPlaneState {
  return { initialized: cp.status?.initialized === true, ready: cp.status?.ready === true };
}

async function createControlPlaneMachine(
  pass: ClusterPass,
  cp: KubeObject,
  existing: KubeObject[],
  version: string,
  template: ObjectRef,
  specKey: string,
): Promise<void> {
  const infraTemplate = await pass.get(template);
  if (!infraTemplate) return;
  const taken = new Set(existing.map((m) => m.metadata.name));
  let slot = 0;
  while (taken.has(machineName(cp.metadata.name, slot))) slot++;
  const spec = isRecord(cp.spec) ? cp.spec : {};
  const bootstrapSpec: Record<string, unknown> = {};
  for (const key of ['agentConfig', 'files', 'gzipUserData', 'postRKE2Commands', 'preRKE2Commands', 'privateRegistriesConfig']) {
    if (spec[key] !== undefined) bootstrapSpec[key] = spec[key];
  }
  const machineTemplate = isRecord(spec.machineTemplate) ? spec.machineTemplate : {};
  const templateMetadata = isRecord(machineTemplate.metadata) ? machineTemplate.metadata : {};
  await createMachine(pass, {
    name: machineName(cp.metadata.name, slot),
    owner: cp,
    labels: { ...((templateMetadata.labels as Record<string, string>) ?? {}), [LABEL.controlPlane]: '', [LABEL.controlPlaneName]: cp.metadata.name },
    annotations: { ...((templateMetadata.annotations as Record<string, string>) ?? {}), [ANNOTATION.controlPlaneSpec]: specKey },
    spec: {
      version,
      ...(machineTemplate.nodeDrainTimeout !== undefined ? { nodeDrainTimeout: machineTemplate.nodeDrainTimeout } : {}),
      ...(spec.nodeDrainTimeout !== undefined ? { nodeDrainTimeout: spec.nodeDrainTimeout } : {}),
    },
    parts: {
      bootstrapSpec,
      bootstrapTemplate: null,
      infrastructureSpec: (field(infraTemplate, 'spec', 'template', 'spec') as Record<string, unknown>) ?? {},
      infrastructureTemplate: template,
    },
  });
}

async function ensureKubeconfig(pass: ClusterPass): Promise<void> {
  const ref = { apiVersion: 'v1', kind: 'Secret', name: kubeconfigSecretName(pass.clusterName), namespace: pass.namespace };
  if (await pass.get(ref)) return;
  await pass.createIfAbsent(await kubeconfigSecret(pass.emulator, pass.cluster));
}

function refOfMachine(machine: KubeObject): ObjectRef {
  return { apiVersion: machine.apiVersion, kind: 'Machine', name: machine.metadata.name, namespace: machine.metadata.namespace };
}

/** The oldest Kubernetes version among the machines, as `status.version` reports (`v1.35.2+rke2r1` < `v1.36.0+rke2r1`). */
export function lowestVersion(versions: (string | undefined)[]): string | null {
  const known = versions.filter((v): v is string => Boolean(v));
  if (known.length === 0) return null;
  const key = (v: string) => (/(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1).map(Number);
  return known.reduce((low, v) => {
    const [a, b] = [key(v), key(low)];
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0) ? v : low;
    return low;
  });
}

export function controlPlaneOf(pass: ClusterPass): ObjectRef | null {
  const ref = referenced(pass.cluster, field(pass.cluster, 'spec', 'controlPlaneRef'));
  return ref && ref.apiVersion.startsWith(CONTROL_PLANE_API.split('/')[0]!) ? ref : null;
}
