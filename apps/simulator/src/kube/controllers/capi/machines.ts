import { KubeApiError, type KubeObject, type ObjectRef } from '../../types';
import {
  ANNOTATION,
  BOOTSTRAP_API,
  CLUSTER_API,
  FINALIZER,
  INFRASTRUCTURE_API,
  LABEL,
  durationMs,
  field,
  isDeleting,
  isRecord,
  ownerReference,
  referenced,
  refOf,
  stringField,
} from './api';
import { falseCondition, setConditions, summary, trueCondition, type ConditionInput } from './conditions';
import { drainConditionMessage, drainNode, type Evictor } from './drain';
import { deleteNode } from '../workload';
import { rke2Node } from './node';
import type { ClusterPass } from './pass';

/**
 * A Machine's life as CAPI, CAPRKE2's bootstrap provider and the Dev (in-memory) infrastructure
 * provider move it, one step per `stepDelayMs` (times a slow-rollout factor):
 * Pending (bootstrap data being generated; workers wait for the control plane to be initialised)
 * -> Provisioning (the infrastructure machine boots) -> Provisioned (providerID known) -> Running
 * (the Node registered, `status.nodeRef`). Deleting drains the node through evictions, removes
 * the infrastructure and bootstrap objects, deletes the Node, and drops the finalizer.
 */
export interface MachineParts {
  /** What the machine is built from: the bootstrap config spec and the infrastructure machine spec (from their templates). */
  bootstrapSpec: Record<string, unknown>;
  bootstrapTemplate: ObjectRef | null;
  infrastructureSpec: Record<string, unknown>;
  infrastructureTemplate: ObjectRef | null;
}

export interface NewMachine {
  name: string;
  owner: KubeObject;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** The Machine spec without bootstrap/infrastructure refs, which are made here. */
  spec: Record<string, unknown>;
  parts: MachineParts;
}

/**
 * Creates the bootstrap config and the infrastructure machine first, owned by the Machine's owner,
 * then the Machine, as CAPI's MachineSet and CAPRKE2's control plane do; the Machine reconcile
 * hands them to the Machine. Every name is the Machine's, so a repeated create finds them.
 */
export async function createMachine(pass: ClusterPass, input: NewMachine): Promise<void> {
  const namespace = pass.namespace;
  const clusterLabel = { [LABEL.clusterName]: pass.clusterName };
  const cloned = (template: ObjectRef | null): Record<string, string> =>
    template ? { [ANNOTATION.clonedFromName]: template.name, [ANNOTATION.clonedFromGroupKind]: `${template.kind}.${template.apiVersion.split('/')[0]}` } : {};
  await pass.createIfAbsent({
    apiVersion: BOOTSTRAP_API,
    kind: 'RKE2Config',
    metadata: {
      name: input.name,
      namespace,
      labels: { ...clusterLabel },
      annotations: cloned(input.parts.bootstrapTemplate),
      ownerReferences: [ownerReference(input.owner)],
    },
    spec: input.parts.bootstrapSpec,
  });
  await pass.createIfAbsent({
    apiVersion: INFRASTRUCTURE_API,
    kind: 'DevMachine',
    metadata: {
      name: input.name,
      namespace,
      labels: { ...clusterLabel },
      annotations: cloned(input.parts.infrastructureTemplate),
      ownerReferences: [ownerReference(input.owner)],
    },
    spec: input.parts.infrastructureSpec,
  });
  await pass.createIfAbsent({
    apiVersion: CLUSTER_API,
    kind: 'Machine',
    metadata: {
      name: input.name,
      namespace,
      labels: { ...input.labels, ...clusterLabel },
      annotations: input.annotations,
      ownerReferences: [ownerReference(input.owner)],
    },
    spec: {
      ...input.spec,
      clusterName: pass.clusterName,
      bootstrap: { configRef: { apiVersion: BOOTSTRAP_API, kind: 'RKE2Config', name: input.name, namespace } },
      infrastructureRef: { apiVersion: INFRASTRUCTURE_API, kind: 'DevMachine', name: input.name, namespace },
    },
  });
}

export function isControlPlaneMachine(machine: KubeObject): boolean {
  return machine.metadata.labels?.[LABEL.controlPlane] !== undefined;
}

export function machinePhase(machine: KubeObject): string {
  return stringField(machine, 'status', 'phase') ?? 'Pending';
}

export function isRunning(machine: KubeObject): boolean {
  return !isDeleting(machine) && machinePhase(machine) === 'Running' && isRecord(field(machine, 'status', 'nodeRef'));
}

export interface MachineWorld {
  /** Whether the cluster's control plane is initialised (workers' bootstrap waits for it). */
  controlPlaneInitialized: boolean;
  evict: Evictor;
}

export async function reconcileMachine(pass: ClusterPass, machine: KubeObject, world: MachineWorld): Promise<void> {
  if (isDeleting(machine)) return reconcileMachineDeletion(pass, machine, world);
  machine = await pass.addFinalizer(machine, FINALIZER.machine);
  const phase = machinePhase(machine);
  if (phase === 'Running') return syncNodeTaints(pass, machine);
  if (phase === 'Failed') return;
  const status = machine.status ?? {};
  const bootstrapRef = referenced(machine, field(machine, 'spec', 'bootstrap', 'configRef'));
  const infraRef = referenced(machine, field(machine, 'spec', 'infrastructureRef'));
  if (!bootstrapRef || !infraRef) return;
  const due = pass.elapsed(stringField(status, 'lastUpdated') ?? machine.metadata.creationTimestamp, pass.machineStepMs);

  if (!stringField(status, 'phase')) {
    await pass.patchStatus(machine, {
      phase: 'Pending',
      lastUpdated: pass.now.toISOString(),
      bootstrapReady: false,
      infrastructureReady: false,
      observedGeneration: machine.metadata.generation,
      conditions: machineConditions(machine, pass.now, [
        falseCondition('BootstrapReady', 'WaitingForDataSecret', 'Info'),
        falseCondition('InfrastructureReady', 'WaitingForInfrastructure', 'Info'),
        falseCondition('NodeHealthy', 'WaitingForNodeRef', 'Info'),
      ]),
    });
    return;
  }

  if (phase === 'Pending') {
    const mayBootstrap = isControlPlaneMachine(machine) || world.controlPlaneInitialized;
    if (!due || !mayBootstrap) return;
    const config = await pass.get(bootstrapRef);
    if (!config) return;
    await adopt(pass, config, machine);
    if (pass.faults.failedBootstrap) return failBootstrap(pass, machine, config);
    const secretName = bootstrapRef.name;
    await pass.createIfAbsent({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName, namespace: pass.namespace, labels: { [LABEL.clusterName]: pass.clusterName }, ownerReferences: [ownerReference(config)] },
      type: 'cluster.x-k8s.io/secret',
      data: {
        value: Buffer.from(cloudInit(machine, isControlPlaneMachine(machine))).toString('base64'),
        format: Buffer.from('cloud-config').toString('base64'),
      },
    });
    await pass.patchStatus(config, {
      ready: true,
      dataSecretName: secretName,
      observedGeneration: config.metadata.generation,
      conditions: setConditions(config.status?.conditions, [trueCondition('Ready'), trueCondition('DataSecretAvailable')], pass.now),
    });
    machine = await pass.patch(machine, { spec: { bootstrap: { dataSecretName: secretName } } });
    await pass.patchStatus(machine, {
      phase: 'Provisioning',
      lastUpdated: pass.now.toISOString(),
      bootstrapReady: true,
      conditions: machineConditions(machine, pass.now, [trueCondition('BootstrapReady')]),
    });
    return;
  }

  if (phase === 'Provisioning') {
    // A stuck machine's infrastructure never reports ready, as a host that never boots.
    if (!due || pass.faults.stuck) return;
    const infra = await pass.get(infraRef);
    if (!infra) return;
    await adopt(pass, infra, machine);
    const providerID = `in-memory://${machine.metadata.name}`;
    const addresses = machineAddresses(machine.metadata.name);
    await pass.patch(infra, { spec: { providerID } });
    await pass.patchStatus(infra, { ready: true, addresses, conditions: setConditions(infra.status?.conditions, [trueCondition('Ready')], pass.now) });
    machine = await pass.patch(machine, { spec: { providerID } });
    await pass.patchStatus(machine, {
      phase: 'Provisioned',
      lastUpdated: pass.now.toISOString(),
      infrastructureReady: true,
      addresses,
      conditions: machineConditions(machine, pass.now, [trueCondition('InfrastructureReady')]),
    });
    return;
  }

  if (phase === 'Provisioned') {
    if (!due) return;
    // The node joins the workload API server, which exists once the first server booted.
    // A kubelet registers through the API server: while it is down (a fault), the node waits.
    const apiServer = await pass.emulator.getApiServer(pass.clusterName);
    if (!apiServer?.serving) return;
    const version = stringField(machine, 'spec', 'version') ?? `v${apiServer.version}`;
    const config = await pass.get(bootstrapRef);
    const agent = field(config, 'spec', 'agentConfig');
    const workload = pass.emulator.server(pass.clusterName);
    const wanted = rke2Node({
      machine,
      clusterName: pass.clusterName,
      version,
      providerID: stringField(machine, 'spec', 'providerID') ?? `in-memory://${machine.metadata.name}`,
      internalIP: machineAddresses(machine.metadata.name)[0]!.address,
      controlPlane: isControlPlaneMachine(machine),
      nodeLabels: stringList(field(agent, 'nodeLabels')),
      nodeTaints: stringList(field(agent, 'nodeTaints')),
      machineTaints: Array.isArray(field(machine, 'spec', 'taints')) ? (field(machine, 'spec', 'taints') as Record<string, unknown>[]) : [],
    });
    let node = await workload.get({ apiVersion: 'v1', kind: 'Node', name: wanted.metadata.name });
    if (!node) {
      try {
        node = await workload.create(wanted);
      } catch (error) {
        if (!(error instanceof KubeApiError && error.code === 409)) throw error;
        node = await workload.get({ apiVersion: 'v1', kind: 'Node', name: wanted.metadata.name });
      }
      if (!node) return;
      // The kubelet posts its status after registering: a create may not keep it.
      if (!Array.isArray(node.status?.conditions)) node = await workload.updateStatus({ ...node, status: wanted.status });
    }
    await pass.patchStatus(machine, {
      phase: 'Running',
      lastUpdated: pass.now.toISOString(),
      nodeRef: { apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid },
      nodeInfo: node.status?.nodeInfo,
      conditions: machineConditions(machine, pass.now, [trueCondition('NodeHealthy')]),
    });
  }
}

async function failBootstrap(pass: ClusterPass, machine: KubeObject, config: KubeObject): Promise<void> {
  const message = `RKE2 bootstrap of machine ${machine.metadata.name} failed: the node did not join the cluster (injected fault)`;
  await pass.patchStatus(config, {
    ready: false,
    failureReason: 'BootstrapFailed',
    failureMessage: message,
    conditions: setConditions(config.status?.conditions, [falseCondition('Ready', 'BootstrapFailed', 'Error', message)], pass.now),
  });
  await pass.patchStatus(machine, {
    phase: 'Failed',
    lastUpdated: pass.now.toISOString(),
    failureReason: 'CreateError',
    failureMessage: `Failure detected from referenced resource ${BOOTSTRAP_API}, Kind=RKE2Config with name "${config.metadata.name}": ${message}`,
    conditions: machineConditions(machine, pass.now, [falseCondition('BootstrapReady', 'BootstrapFailed', 'Error', message)]),
  });
}

async function reconcileMachineDeletion(pass: ClusterPass, machine: KubeObject, world: MachineWorld): Promise<void> {
  if (!(machine.metadata.finalizers ?? []).includes(FINALIZER.machine)) return;
  if (machinePhase(machine) !== 'Deleting') {
    machine = await pass.patchStatus(machine, { phase: 'Deleting', lastUpdated: pass.now.toISOString() });
  }
  const nodeName = stringField(machine, 'status', 'nodeRef', 'name');
  // A cluster being deleted loses its API server whole: CAPI skips drain and node deletion then.
  const apiServer = nodeName && !pass.isClusterDeleting() ? await pass.emulator.getApiServer(pass.clusterName) : null;
  if (apiServer && !apiServer.serving) {
    // CAPI drains through the workload cluster's API: unreachable, the drain is retried, never skipped.
    await pass.patchStatus(machine, {
      conditions: machineConditions(machine, pass.now, [
        falseCondition(
          'DrainingSucceeded',
          'DrainingFailed',
          'Warning',
          `Drain failed: the workload cluster's API server ${pass.clusterName} is not reachable`,
        ),
      ]),
    });
    return;
  }
  const workload = apiServer ? pass.emulator.server(pass.clusterName) : null;
  const drainStarted = stringField(machine, 'status', 'deletion', 'nodeDrainStartTime');
  const drainTimeout = durationMs(field(machine, 'spec', 'nodeDrainTimeout'));
  const timedOut = drainStarted !== undefined && drainTimeout !== null && drainTimeout > 0 && pass.elapsed(drainStarted, drainTimeout);
  if (nodeName && workload && timedOut) {
    // Past `spec.nodeDrainTimeout` CAPI stops draining and deletes the machine anyway.
    machine = await pass.patchStatus(machine, {
      conditions: machineConditions(machine, pass.now, [
        falseCondition(
          'DrainingSucceeded',
          'DrainingFailed',
          'Warning',
          `Drain not completed within nodeDrainTimeout ${String(machine.spec?.nodeDrainTimeout)}: the node is removed anyway`,
        ),
      ]),
    });
  } else if (nodeName && workload) {
    const drain = await drainNode(workload, nodeName, world.evict);
    if (!drain.done) {
      const startedAt = stringField(machine, 'status', 'deletion', 'nodeDrainStartTime') ?? pass.now.toISOString();
      const message =
        drain.failedEviction.size > 0 || drain.terminating.length > 0 ? drainConditionMessage(startedAt, drain) : 'Draining the node before deletion';
      await pass.patchStatus(machine, {
        deletion: {
          ...(isRecord(machine.status?.deletion) ? machine.status.deletion : {}),
          nodeDrainStartTime: startedAt,
        },
        conditions: machineConditions(machine, pass.now, [falseCondition('DrainingSucceeded', 'Draining', 'Info', message)]),
      });
      return;
    }
    if (stringField(machine, 'status', 'deletion', 'nodeDrainStartTime')) {
      machine = await pass.patchStatus(machine, { conditions: machineConditions(machine, pass.now, [trueCondition('DrainingSucceeded')]) });
    }
  }

  // The infrastructure and bootstrap objects go, then the host takes a step to shut down.
  const infraRef = referenced(machine, field(machine, 'spec', 'infrastructureRef'));
  const bootstrapRef = referenced(machine, field(machine, 'spec', 'bootstrap', 'configRef'));
  if (infraRef) await pass.deleteIfPresent(infraRef);
  if (bootstrapRef) {
    await pass.deleteIfPresent(bootstrapRef);
    await pass.deleteIfPresent({ apiVersion: 'v1', kind: 'Secret', name: bootstrapRef.name, namespace: pass.namespace });
  }
  if (!pass.elapsed(stringField(machine, 'status', 'lastUpdated'), pass.machineStepMs)) return;
  if (nodeName && workload) {
    await deleteNode(workload, nodeName);
  }
  await pass.removeFinalizer(machine, FINALIZER.machine);
}

/**
 * Keeps the Node's taints in step with the Machine's `spec.taints` of propagation `Always`: adds
 * the missing ones and removes those it added earlier and the Machine no longer lists (recorded in
 * an annotation on the Node), leaving every other taint alone, as CAPI manages only its own.
 */
async function syncNodeTaints(pass: ClusterPass, machine: KubeObject): Promise<void> {
  const wanted = (Array.isArray(machine.spec?.taints) ? (machine.spec.taints as Record<string, unknown>[]) : [])
    .filter((t) => t.propagation !== 'OnInitialization')
    .map((t) => ({ key: String(t.key), ...(typeof t.value === 'string' ? { value: t.value } : {}), effect: String(t.effect) }));
  const wantedKey = JSON.stringify(wanted);
  if ((machine.metadata.annotations?.[MANAGED_TAINTS] ?? '[]') === wantedKey) return;
  const nodeName = stringField(machine, 'status', 'nodeRef', 'name');
  const apiServer = nodeName ? await pass.emulator.getApiServer(pass.clusterName) : null;
  if (!nodeName || !apiServer?.serving) return;
  const workload = pass.emulator.server(pass.clusterName);
  const node = await workload.get({ apiVersion: 'v1', kind: 'Node', name: nodeName });
  if (!node) return;
  const previous = JSON.parse(machine.metadata.annotations?.[MANAGED_TAINTS] ?? '[]') as { key: string; effect: string }[];
  const same = (a: { key: string; effect: string }, b: { key: string; effect: string }) => a.key === b.key && a.effect === b.effect;
  const current = Array.isArray(node.spec?.taints) ? (node.spec.taints as { key: string; effect: string }[]) : [];
  const kept = current.filter((t) => !previous.some((p) => same(p, t)) && !wanted.some((w) => same(w, t)));
  await workload.mergePatch({ apiVersion: 'v1', kind: 'Node', name: nodeName }, { spec: { taints: [...kept, ...wanted] } });
  await pass.server.mergePatch(refOf(machine), { metadata: { annotations: { [MANAGED_TAINTS]: wantedKey } } });
}

/** On the Machine: the taints it last put on its Node (what CAPI tracks to remove only its own). */
const MANAGED_TAINTS = 'simulator.capstan.dev/node-taints';

/** CAPI's Machine controller makes itself the controller owner of its bootstrap and infrastructure objects. */
async function adopt(pass: ClusterPass, object: KubeObject, machine: KubeObject): Promise<void> {
  const owners = object.metadata.ownerReferences ?? [];
  if (owners.some((o) => o.kind === 'Machine' && o.name === machine.metadata.name)) return;
  await pass.patch(object, { metadata: { ownerReferences: [ownerReference(machine)] } });
}

function machineConditions(machine: KubeObject, now: Date, changes: ConditionInput[]) {
  // Ready stays in: setConditions keeps its lastTransitionTime while its status holds. Rebuilt from
  // scratch it got a new one on every pass, so a machine whose drain waits (a PodDisruptionBudget,
  // a pod still terminating) was rewritten, and woke every CAPI controller, many times a second.
  const merged = setConditions(machine.status?.conditions, changes, now);
  const gating = ['BootstrapReady', 'InfrastructureReady', 'NodeHealthy'];
  const ready = summary(merged.filter((c) => gating.includes(c.type)) as ConditionInput[]);
  return setConditions(merged, [ready], now);
}

/** A stable private address per machine, in the emulated hosts' network. */
function machineAddresses(name: string): { type: string; address: string }[] {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return [
    { type: 'InternalIP', address: `10.${(hash >>> 16) & 0xff}.${(hash >>> 8) & 0xff}.${Math.max(2, hash & 0xff)}` },
    { type: 'Hostname', address: name },
  ];
}

function cloudInit(machine: KubeObject, server: boolean): string {
  const role = server ? 'server' : 'agent';
  return [
    '## template: jinja',
    '#cloud-config',
    'runcmd:',
    `  - 'curl -sfL https://get.rke2.io | INSTALL_RKE2_VERSION=${stringField(machine, 'spec', 'version') ?? ''} INSTALL_RKE2_TYPE="${role}" sh -s -'`,
    `  - 'systemctl enable --now rke2-${role}.service'`,
    '',
  ].join('\n');
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
