import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../types';
import { CLUSTER_API, FINALIZER, LABEL, ANNOTATION, field, isDeleting, isRecord, numberField, ownerReference, referenced, refOf, stringField } from './api';
import { falseCondition, setConditions, summary, trueCondition, type Condition, type ConditionInput } from './conditions';
import { createMachine, isRunning, machinePhase } from './machines';
import { creationOrder, ownedBy, type ClusterPass } from './pass';
import { machineName, planRollingUpdate, resolveFenceposts, templateHash, type MachineSetCounts } from './rollout';

/**
 * MachineDeployments and their MachineSets, as CAPI's controllers run them: a MachineSet per
 * template (named by the template's hash), machines per set by `spec.replicas`, and a
 * RollingUpdate (maxSurge / maxUnavailable) moving machines from the old sets to the new one when
 * the template changes (a new version, another bootstrap or infrastructure template).
 */
export async function reconcileMachineDeployments(pass: ClusterPass, machines: KubeObject[]): Promise<void> {
  const deployments = await pass.listOwned(CLUSTER_API, 'MachineDeployment');
  let sets = await pass.listOwned(CLUSTER_API, 'MachineSet');
  for (const deployment of deployments) {
    const own = sets.filter((s) => ownedBy(s, deployment)).sort(creationOrder);
    await reconcileDeployment(pass, deployment, own);
  }
  sets = await pass.listOwned(CLUSTER_API, 'MachineSet');
  for (const set of sets) {
    const owner = set.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'MachineDeployment');
    // The garbage collector's part: a set whose deployment is gone goes too.
    if (owner && !deployments.some((d) => d.metadata.name === owner.name && (!owner.uid || d.metadata.uid === owner.uid))) {
      if (!isDeleting(set)) await pass.deleteIfPresent(refOf(set));
    }
    await reconcileMachineSet(
      pass,
      set,
      machines.filter((m) => ownedBy(m, set)),
    );
  }
}

async function reconcileDeployment(pass: ClusterPass, deployment: KubeObject, sets: KubeObject[]): Promise<void> {
  if (isDeleting(deployment)) {
    for (const set of sets) if (!isDeleting(set)) await pass.deleteIfPresent(refOf(set));
    if (sets.length === 0) await pass.removeFinalizer(deployment, FINALIZER.machineDeployment);
    return;
  }
  deployment = await pass.addFinalizer(deployment, FINALIZER.machineDeployment);
  deployment = await adoptByCluster(pass, deployment);

  const replicas = numberField(deployment, 'spec', 'replicas') ?? 1;
  const template = isRecord(field(deployment, 'spec', 'template')) ? (field(deployment, 'spec', 'template') as Record<string, unknown>) : {};
  const templateSpec = isRecord(template.spec) ? template.spec : {};
  const hash = templateHash({
    version: templateSpec.version,
    bootstrap: templateSpec.bootstrap,
    infrastructureRef: templateSpec.infrastructureRef,
    failureDomain: templateSpec.failureDomain,
  });
  let newSet = sets.find((s) => s.metadata.labels?.[LABEL.templateHash] === hash && !isDeleting(s));
  const oldSets = sets.filter((s) => s !== newSet && !isDeleting(s));
  if (!newSet) {
    const oldReplicas = oldSets.reduce((total, s) => total + (numberField(s, 'spec', 'replicas') ?? 0), 0);
    newSet = await pass.createIfAbsent(newMachineSet(pass, deployment, template, hash, oldReplicas > 0 ? 0 : replicas));
  } else {
    // Fields outside the hash (labels, annotations, taints, timeouts) change in place, as CAPI
    // propagates them to the current MachineSet rather than rolling the machines.
    const wanted = newMachineSet(pass, deployment, template, hash, 0).spec!.template;
    if (!isDeepStrictEqual(newSet.spec?.template, wanted)) {
      newSet = await pass.server.update({ ...newSet, spec: { ...newSet.spec, template: wanted } });
    }
  }

  // The drain timeout reaches old MachineSets too (CAPI propagates the deletion timeouts in place
  // to every MachineSet of the deployment): the machines a rollout deletes drain by the current rule.
  const drainTimeout = templateSpec.nodeDrainTimeout ?? null;
  for (const set of oldSets) {
    if (isDeepStrictEqual(field(set, 'spec', 'template', 'spec', 'nodeDrainTimeout') ?? null, drainTimeout)) continue;
    await pass.server.mergePatch(refOf(set), { spec: { template: { spec: { nodeDrainTimeout: drainTimeout } } } });
  }

  const strategy = stringField(deployment, 'spec', 'strategy', 'type') ?? 'RollingUpdate';
  const fenceposts = resolveFenceposts(
    replicas,
    field(deployment, 'spec', 'strategy', 'rollingUpdate', 'maxSurge'),
    field(deployment, 'spec', 'strategy', 'rollingUpdate', 'maxUnavailable'),
  );
  const counts = (set: KubeObject): MachineSetCounts => ({
    name: set.metadata.name,
    desired: numberField(set, 'spec', 'replicas') ?? 0,
    available: numberField(set, 'status', 'availableReplicas') ?? 0,
  });
  let scale: Map<string, number>;
  if (strategy === 'OnDelete') {
    // Old machines go only when someone deletes them; the new set fills the gap they leave.
    const oldActual = oldSets.reduce((total, s) => total + (numberField(s, 'status', 'replicas') ?? 0), 0);
    scale = new Map([[newSet.metadata.name, Math.max(0, replicas - oldActual)]]);
  } else {
    scale = planRollingUpdate(replicas, fenceposts, counts(newSet), oldSets.map(counts)).scale;
  }
  for (const set of [newSet, ...oldSets]) {
    const next = scale.get(set.metadata.name);
    if (next !== undefined && next !== numberField(set, 'spec', 'replicas')) await pass.patch(set, { spec: { replicas: next } });
  }
  // An old set emptied of machines has served its purpose.
  for (const set of oldSets) {
    if ((numberField(set, 'spec', 'replicas') ?? 0) === 0 && (numberField(set, 'status', 'replicas') ?? 0) === 0 && !scale.has(set.metadata.name)) {
      await pass.deleteIfPresent(refOf(set));
    }
  }

  const all = [newSet, ...oldSets];
  const sum = (path: string) => all.reduce((total, s) => total + (numberField(s, 'status', path) ?? 0), 0);
  const statusReplicas = sum('replicas');
  const ready = sum('readyReplicas');
  const available = sum('availableReplicas');
  const updated = numberField(newSet, 'status', 'replicas') ?? 0;
  const failed = all.some((s) => stringField(s, 'status', 'failureReason'));
  const phase = failed
    ? 'Failed'
    : ready < replicas
      ? 'ScalingUp'
      : statusReplicas > replicas
        ? 'ScalingDown'
        : ready === replicas && updated === replicas
          ? 'Running'
          : 'Unknown';
  const availableEnough = available >= replicas - fenceposts.maxUnavailable;
  const conditions: ConditionInput[] = [
    availableEnough
      ? trueCondition('Available')
      : falseCondition(
          'Available',
          'WaitingForAvailableMachines',
          'Warning',
          `Minimum availability requires ${replicas - fenceposts.maxUnavailable} replicas, current ${available} available`,
        ),
  ];
  await pass.patchStatus(deployment, {
    replicas: statusReplicas,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: available,
    unavailableReplicas: Math.max(0, replicas - available),
    phase,
    selector: selectorString(field(deployment, 'spec', 'selector')),
    observedGeneration: deployment.metadata.generation,
    conditions: setConditions(deployment.status?.conditions, [...conditions, summary(conditions)], pass.now),
  });
}

function newMachineSet(pass: ClusterPass, deployment: KubeObject, template: Record<string, unknown>, hash: string, replicas: number): KubeObject {
  const name = `${deployment.metadata.name.slice(0, 52)}-${hash}`;
  const metadata = isRecord(template.metadata) ? template.metadata : {};
  const labels = {
    ...((metadata.labels as Record<string, string>) ?? {}),
    [LABEL.clusterName]: pass.clusterName,
    [LABEL.deploymentName]: deployment.metadata.name,
    [LABEL.templateHash]: hash,
  };
  const selector = isRecord(field(deployment, 'spec', 'selector')) ? (field(deployment, 'spec', 'selector') as Record<string, unknown>) : {};
  return {
    apiVersion: CLUSTER_API,
    kind: 'MachineSet',
    metadata: { name, namespace: pass.namespace, labels, ownerReferences: [ownerReference(deployment)] },
    spec: {
      clusterName: pass.clusterName,
      replicas,
      selector: { ...selector, matchLabels: { ...((selector.matchLabels as Record<string, string>) ?? {}), [LABEL.templateHash]: hash } },
      template: { ...template, metadata: { ...metadata, labels } },
      ...(deployment.spec?.minReadySeconds !== undefined ? { minReadySeconds: deployment.spec.minReadySeconds } : {}),
    },
  };
}

async function reconcileMachineSet(pass: ClusterPass, set: KubeObject, machines: KubeObject[]): Promise<void> {
  if (isDeleting(set)) {
    for (const machine of machines) if (!isDeleting(machine)) await pass.deleteIfPresent(refOf(machine));
    if (machines.length === 0) await pass.removeFinalizer(set, FINALIZER.machineSet);
    return;
  }
  set = await pass.addFinalizer(set, FINALIZER.machineSet);
  const replicas = numberField(set, 'spec', 'replicas') ?? 1;
  const active = machines.filter((m) => !isDeleting(m));
  if (active.length < replicas) {
    const taken = new Set(machines.map((m) => m.metadata.name));
    let slot = 0;
    for (let missing = replicas - active.length; missing > 0; missing--) {
      while (taken.has(machineName(set.metadata.name, slot))) slot++;
      const name = machineName(set.metadata.name, slot);
      taken.add(name);
      if (!(await createSetMachine(pass, set, name))) break;
    }
  } else if (active.length > replicas) {
    for (const machine of deletionOrder(active).slice(0, active.length - replicas)) await pass.deleteIfPresent(refOf(machine));
  }

  for (const machine of active) await propagateInPlace(pass, set, machine);

  const running = machines.filter(isRunning);
  // A failed Machine is reported on the Machine and through MachinesReady, never as the set's own
  // failureReason/failureMessage: upstream keeps those for a terminal problem with the set itself
  // (its template, the controller's configuration) and never derives them from a machine. Copied
  // here they outlived the failed machine (a merge patch cannot drop a field by leaving it out), so
  // the MachineDeployment read Failed after a rollback had already replaced it.
  const failed = active.find((m) => machinePhase(m) === 'Failed');
  const failedReady = failed ? (failed.status?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready') : undefined;
  const conditions: ConditionInput[] = [
    trueCondition('MachinesCreated'),
    running.length === active.length
      ? trueCondition('MachinesReady')
      : failed
        ? falseCondition(
            'MachinesReady',
            failedReady?.reason ?? 'MachineFailed',
            'Error',
            `Machine ${failed.metadata.name}: ${failedReady?.message ?? 'failed'}`,
          )
        : falseCondition('MachinesReady', 'MachinesNotReady', 'Info', `${active.length - running.length} of ${active.length} machines are not ready`),
    active.length === replicas
      ? trueCondition('Resized')
      : falseCondition(
          'Resized',
          active.length < replicas ? 'ScalingUp' : 'ScalingDown',
          'Warning',
          `Scaling to ${replicas} replicas (actual ${active.length})`,
        ),
  ];
  await pass.patchStatus(set, {
    replicas: machines.length,
    fullyLabeledReplicas: machines.length,
    readyReplicas: running.length,
    availableReplicas: running.length,
    selector: selectorString(field(set, 'spec', 'selector')),
    observedGeneration: set.metadata.generation,
    conditions: setConditions(set.status?.conditions, [...conditions, summary(conditions)], pass.now),
  });
}

async function createSetMachine(pass: ClusterPass, set: KubeObject, name: string): Promise<boolean> {
  const template = isRecord(field(set, 'spec', 'template')) ? (field(set, 'spec', 'template') as Record<string, unknown>) : {};
  const spec = isRecord(template.spec) ? template.spec : {};
  const metadata = isRecord(template.metadata) ? template.metadata : {};
  const bootstrapTemplateRef = referenced(set, field(spec, 'bootstrap', 'configRef'));
  const infraTemplateRef = referenced(set, spec.infrastructureRef);
  if (!bootstrapTemplateRef || !infraTemplateRef) return false;
  const [bootstrapTemplate, infraTemplate] = await Promise.all([pass.get(bootstrapTemplateRef), pass.get(infraTemplateRef)]);
  // CAPI waits for the templates to exist; so does the emulator.
  if (!bootstrapTemplate || !infraTemplate) return false;
  const { bootstrap: _bootstrap, infrastructureRef: _infra, ...rest } = spec;
  await createMachine(pass, {
    name,
    owner: set,
    labels: { ...((metadata.labels as Record<string, string>) ?? {}), [LABEL.setName]: set.metadata.name },
    annotations: (metadata.annotations as Record<string, string>) ?? undefined,
    spec: rest,
    parts: {
      bootstrapSpec: (field(bootstrapTemplate, 'spec', 'template', 'spec') as Record<string, unknown>) ?? {},
      bootstrapTemplate: bootstrapTemplateRef,
      infrastructureSpec: (field(infraTemplate, 'spec', 'template', 'spec') as Record<string, unknown>) ?? {},
      infrastructureTemplate: infraTemplateRef,
    },
  });
  return true;
}

/** Labels the controllers own on a Machine; every other label comes from the template. */
const SYSTEM_LABEL = /^(cluster\.x-k8s\.io\/|machine-template-hash$)/;

/** The template's labels, taints and nodeDrainTimeout onto an existing machine (CAPI's in-place propagation). */
async function propagateInPlace(pass: ClusterPass, set: KubeObject, machine: KubeObject): Promise<void> {
  const template = field(set, 'spec', 'template');
  const wantedLabels = (field(template, 'metadata', 'labels') as Record<string, string> | undefined) ?? {};
  const labels: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(wantedLabels)) if (machine.metadata.labels?.[key] !== value) labels[key] = value;
  for (const key of Object.keys(machine.metadata.labels ?? {})) if (!(key in wantedLabels) && !SYSTEM_LABEL.test(key)) labels[key] = null;
  const spec: Record<string, unknown> = {};
  for (const key of ['taints', 'nodeDrainTimeout']) {
    const wanted = field(template, 'spec', key) ?? null;
    if (!isDeepStrictEqual(machine.spec?.[key] ?? null, wanted)) spec[key] = wanted;
  }
  if (Object.keys(labels).length === 0 && Object.keys(spec).length === 0) return;
  await pass.server.mergePatch(refOf(machine), {
    ...(Object.keys(labels).length > 0 ? { metadata: { labels } } : {}),
    ...(Object.keys(spec).length > 0 ? { spec } : {}),
  });
}

/** Which machines a shrinking set gives up first: those marked for deletion, then failed or unready ones, then the newest. */
function deletionOrder(machines: KubeObject[]): KubeObject[] {
  const rank = (m: KubeObject) =>
    m.metadata.annotations?.[ANNOTATION.deleteMachine] !== undefined ? 0 : machinePhase(m) === 'Failed' ? 1 : !isRunning(m) ? 2 : 3;
  return [...machines].sort((a, b) => rank(a) - rank(b) || creationOrder(b, a));
}

/** The cluster-name label (CAPI's defaulting webhook adds it) and the Cluster as owner. */
async function adoptByCluster(pass: ClusterPass, object: KubeObject): Promise<KubeObject> {
  const labelled = object.metadata.labels?.[LABEL.clusterName] === pass.clusterName;
  const owned = (object.metadata.ownerReferences ?? []).some((o) => o.kind === 'Cluster' && o.name === pass.clusterName);
  if (labelled && owned) return object;
  return pass.patch(object, {
    metadata: {
      labels: { [LABEL.clusterName]: pass.clusterName },
      ...(owned ? {} : { ownerReferences: [...(object.metadata.ownerReferences ?? []), ownerReference(pass.cluster, false)] }),
    },
  });
}

/** A label selector object as the `status.selector` string (`a=b,c=d`). */
export function selectorString(selector: unknown): string | undefined {
  if (!isRecord(selector)) return undefined;
  const parts = Object.entries((selector.matchLabels as Record<string, string>) ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const expression of Array.isArray(selector.matchExpressions) ? selector.matchExpressions : []) {
    const key = stringField(expression, 'key');
    const operator = stringField(expression, 'operator');
    const values = (field(expression, 'values') as string[] | undefined) ?? [];
    if (!key) continue;
    if (operator === 'In') parts.push(`${key} in (${values.join(',')})`);
    else if (operator === 'NotIn') parts.push(`${key} notin (${values.join(',')})`);
    else if (operator === 'Exists') parts.push(key);
    else if (operator === 'DoesNotExist') parts.push(`!${key}`);
  }
  return parts.join(',');
}
