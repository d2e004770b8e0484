import type { KubeObject } from '../../types';
import { CLUSTER_API, FINALIZER, LABEL, field, isDeleting, isRecord, ownerReference, referenced, refOf, stringField } from './api';
import { falseCondition, setConditions, summary, trueCondition, type ConditionInput } from './conditions';
import { reconcileControlPlane, type ControlPlaneState } from './control-plane';
import { kubeconfigSecretName } from './kubeconfig';
import { reconcileMachineDeployments } from './machine-deployments';
import { reconcileMachine, type MachineWorld } from './machines';
import type { ClusterPass } from './pass';
import type { Evictor } from './drain';

/**
 * A Cluster and everything that hangs off it, in the order CAPI's controllers converge them:
 * the infrastructure cluster (ready after one step, with the control plane endpoint), the
 * machines, the control plane, the machine deployments, then the Cluster's own status (phase
 * Pending -> Provisioning -> Provisioned, infrastructureReady, controlPlaneReady, conditions).
 * Deleting a Cluster deletes its MachineDeployments, then its control plane, then its
 * infrastructure cluster, each once the previous is gone, then the workload API server and the
 * kubeconfig Secret, and finally drops the finalizer.
 */
export async function reconcileCluster(pass: ClusterPass, evict: Evictor): Promise<void> {
  if (isDeleting(pass.cluster)) return reconcileClusterDeletion(pass, evict);
  pass.cluster = await pass.addFinalizer(pass.cluster, FINALIZER.cluster);
  const cluster = pass.cluster;

  const infraRef = referenced(cluster, field(cluster, 'spec', 'infrastructureRef'));
  let infra = infraRef ? await pass.get(infraRef) : null;
  if (infra) infra = await reconcileInfrastructureCluster(pass, await adopt(pass, infra));
  const infrastructureReady = infra?.status?.ready === true;
  const endpoint = field(infra, 'spec', 'controlPlaneEndpoint');
  if (infrastructureReady && isRecord(endpoint) && !stringField(cluster, 'spec', 'controlPlaneEndpoint', 'host')) {
    pass.cluster = await pass.patch(pass.cluster, { spec: { controlPlaneEndpoint: { host: endpoint.host, port: endpoint.port } } });
  }
  if (infrastructureReady && cluster.status?.infrastructureReady !== true) {
    pass.cluster = await pass.patchStatus(pass.cluster, { infrastructureReady: true });
  }

  const cpRef = referenced(cluster, field(cluster, 'spec', 'controlPlaneRef'));
  let cp = cpRef ? await pass.get(cpRef) : null;
  if (cp) cp = await adopt(pass, cp);
  let machines = await pass.machines();
  const world: MachineWorld = { controlPlaneInitialized: cp?.status?.initialized === true, evict };
  for (const machine of machines) await reconcileMachine(pass, machine, world);
  await collectOrphans(pass, machines, cp);

  machines = await pass.machines();
  let state: ControlPlaneState = { initialized: false, ready: false };
  if (cp) state = await reconcileControlPlane(pass, cp, machines);
  await reconcileMachineDeployments(pass, machines);

  const hasEndpoint = Boolean(stringField(pass.cluster, 'spec', 'controlPlaneEndpoint', 'host'));
  const phase = infrastructureReady && hasEndpoint ? 'Provisioned' : infraRef || cpRef ? 'Provisioning' : 'Pending';
  const conditions: ConditionInput[] = [
    infrastructureReady ? trueCondition('InfrastructureReady') : falseCondition('InfrastructureReady', 'WaitingForInfrastructure', 'Info'),
    state.initialized
      ? trueCondition('ControlPlaneInitialized')
      : falseCondition(
          'ControlPlaneInitialized',
          'WaitingForControlPlaneProviderInitialized',
          'Info',
          'Waiting for control plane provider to indicate the control plane has been initialized',
        ),
    state.ready ? trueCondition('ControlPlaneReady') : falseCondition('ControlPlaneReady', 'WaitingForControlPlane', 'Info'),
  ];
  await pass.patchStatus(pass.cluster, {
    phase,
    infrastructureReady,
    controlPlaneReady: state.ready,
    observedGeneration: pass.cluster.metadata.generation,
    conditions: setConditions(pass.cluster.status?.conditions, [...conditions, summary(conditions)], pass.now),
  });
}

/** The Dev provider (in-memory backend): ready one step after creation, the endpoint being the cluster's name on the emulator's listener. */
async function reconcileInfrastructureCluster(pass: ClusterPass, infra: KubeObject): Promise<KubeObject> {
  if (infra.status?.ready === true || isDeleting(infra)) return infra;
  if (!pass.elapsed(infra.metadata.creationTimestamp, pass.context.stepDelayMs)) return infra;
  const port = Number(new URL(pass.emulator.url).port) || 443;
  if (!stringField(infra, 'spec', 'controlPlaneEndpoint', 'host')) {
    infra = await pass.patch(infra, { spec: { controlPlaneEndpoint: { host: `${pass.clusterName}.${pass.emulator.kubeDomain}`, port } } });
  }
  return pass.patchStatus(infra, {
    ready: true,
    conditions: setConditions(infra.status?.conditions, [trueCondition('Ready'), trueCondition('LoadBalancerAvailable')], pass.now),
  });
}

async function reconcileClusterDeletion(pass: ClusterPass, evict: Evictor): Promise<void> {
  const cluster = pass.cluster;
  if (!(cluster.metadata.finalizers ?? []).includes(FINALIZER.cluster)) return;
  pass.cluster = await pass.patchStatus(cluster, { phase: 'Deleting' });
  const world: MachineWorld = { controlPlaneInitialized: true, evict };

  // Worker pools first: their machines go without a drain, the cluster being on its way out.
  const deployments = await pass.listOwned(CLUSTER_API, 'MachineDeployment');
  for (const deployment of deployments) if (!isDeleting(deployment)) await pass.deleteIfPresent(refOf(deployment));
  const machines = await pass.machines();
  for (const machine of machines) await reconcileMachine(pass, machine, world);
  const cpRef = referenced(cluster, field(cluster, 'spec', 'controlPlaneRef'));
  const cp = cpRef ? await pass.get(cpRef) : null;
  await reconcileMachineDeployments(pass, machines);
  const workers = machines.filter((m) => m.metadata.labels?.[LABEL.controlPlane] === undefined);
  if (deployments.length > 0 || workers.length > 0 || (await pass.listOwned(CLUSTER_API, 'MachineSet')).length > 0) return;

  if (cp) {
    if (!isDeleting(cp)) await pass.deleteIfPresent(refOf(cp));
    else await reconcileControlPlane(pass, cp, machines);
    return;
  }
  if (machines.length > 0) {
    for (const machine of machines) if (!isDeleting(machine)) await pass.deleteIfPresent(refOf(machine));
    return;
  }
  const infraRef = referenced(cluster, field(cluster, 'spec', 'infrastructureRef'));
  if (infraRef && (await pass.get(infraRef))) {
    await pass.deleteIfPresent(infraRef);
    return;
  }
  await pass.emulator.removeApiServer(pass.clusterName);
  await pass.deleteIfPresent({ apiVersion: 'v1', kind: 'Secret', name: kubeconfigSecretName(pass.clusterName), namespace: pass.namespace });
  await pass.removeFinalizer(pass.cluster, FINALIZER.cluster);
}

/** CAPI's Cluster controller labels its infrastructure and control plane objects and owns them. */
async function adopt(pass: ClusterPass, object: KubeObject): Promise<KubeObject> {
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

/** Deletes machines whose controlling MachineSet or control plane no longer exists: Kubernetes' garbage collector's part. */
async function collectOrphans(pass: ClusterPass, machines: KubeObject[], cp: KubeObject | null): Promise<void> {
  const owners = machines.map((m) => m.metadata.ownerReferences?.find((o) => o.controller));
  const setNames = new Set(owners.filter((o) => o?.kind === 'MachineSet').map((o) => o!.name));
  if (setNames.size === 0 && !owners.some((o) => o?.kind === 'RKE2ControlPlane')) return;
  const sets = setNames.size > 0 ? await pass.listOwned(CLUSTER_API, 'MachineSet') : [];
  for (const [i, machine] of machines.entries()) {
    const owner = owners[i];
    if (!owner || isDeleting(machine)) continue;
    const alive =
      owner.kind === 'MachineSet'
        ? sets.some((s) => s.metadata.name === owner.name && (!owner.uid || s.metadata.uid === owner.uid))
        : owner.kind === 'RKE2ControlPlane'
          ? cp !== null && cp.metadata.name === owner.name && (!owner.uid || cp.metadata.uid === owner.uid)
          : true;
    if (!alive) await pass.deleteIfPresent(refOf(machine));
  }
}
