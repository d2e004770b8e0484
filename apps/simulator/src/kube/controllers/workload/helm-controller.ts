import { createHash } from 'node:crypto';
import { type ApiServerClient, type ApiServerInfo, type ControllerContext, type EmulatedController, KubeApiError, type KubeObject } from '../../types';
import { DEPLOYMENT, NAMESPACE } from './model';
import { createIfAbsent, deleteIfPresent, racing, reconcileScope } from './runtime';

/**
 * k3s-io/helm-controller as a workload cluster runs it: RKE2 inside its server process; elsewhere
 * (GKE) only once its `helm-controller` Deployment exists in kube-system, as Capstan deploys it.
 * For every HelmChart in kube-system it runs the install Job `helm-install-<name>` (the Job's
 * annotation carries a hash of the chart, version and values, so a change replaces the Job, as the
 * real controller does), records `status.jobName`, and the "chart" it installs is a Deployment in
 * `spec.targetNamespace` labelled the way Helm charts label their objects:
 * `app.kubernetes.io/instance: <release>`, `app.kubernetes.io/managed-by: Helm` and
 * `helm.sh/chart: <chart>-<version>`. Capstan reads the installed version back from that label.
 * Deleting the HelmChart uninstalls the release (its Deployment and Job go).
 *
 * A chart version of the form `0.0.0-fail` makes the install Job fail, for tests of failed installs.
 */
const HELM_CHART = { apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart' } as const;
const JOB = { apiVersion: 'batch/v1', kind: 'Job' } as const;
const SYSTEM = 'kube-system';
/** Marks what this emulated controller installed, so an uninstall finds exactly that. */
const RELEASE_LABEL = 'simulator.capstan.io/helm-release';
const HASH_ANNOTATION = 'helmcharts.helm.cattle.io/configHash';

interface HelmChartSpec {
  chart?: string;
  version?: string;
  targetNamespace?: string;
  set?: Record<string, unknown>;
  valuesContent?: string;
}

export const helmControllerEmulation: EmulatedController = {
  name: 'workload/helm-controller',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, info: ApiServerInfo, context: ControllerContext) {
    const { event } = context;
    if (event && event.server === server.name && event.object.kind === 'HelmChart') {
      if (!(await runsHelmController(server, info))) return;
      return reconcileAll(server);
    }
    if (event) {
      // Capstan deploying the controller on a cluster that does not bundle it starts it.
      if (
        event.server === server.name &&
        event.object.kind === 'Deployment' &&
        event.object.metadata.name === 'helm-controller' &&
        (await runsHelmController(server, info))
      )
        return reconcileAll(server);
      return;
    }
    if (!reconcileScope(server, context, ['HelmChart'], 'workload/helm-controller')) return;
    if (await runsHelmController(server, info)) await reconcileAll(server);
  },
};

async function runsHelmController(server: ApiServerClient, info: ApiServerInfo): Promise<boolean> {
  if (info.distribution === 'rke2') return true;
  return (await server.get({ ...DEPLOYMENT, namespace: SYSTEM, name: 'helm-controller' })) !== null;
}

async function reconcileAll(server: ApiServerClient): Promise<void> {
  let charts: KubeObject[];
  try {
    charts = await server.list(HELM_CHART.apiVersion, HELM_CHART.kind, { namespace: SYSTEM });
  } catch (error) {
    // The CRD is not (yet) served on this cluster: nothing to do.
    if (error instanceof KubeApiError && error.code === 404) return;
    throw error;
  }
  const live = new Set<string>();
  for (const chart of charts) {
    if (chart.metadata.deletionTimestamp) continue;
    live.add(chart.metadata.name);
    await install(server, chart);
  }
  await uninstallOrphans(server, live);
}

async function install(server: ApiServerClient, chart: KubeObject): Promise<void> {
  const release = chart.metadata.name;
  const spec = (chart.spec ?? {}) as HelmChartSpec;
  const chartName = spec.chart ?? release;
  const version = spec.version ?? '0.0.0';
  const namespace = spec.targetNamespace ?? 'default';
  const hash = createHash('sha256')
    .update(JSON.stringify([chartName, version, namespace, spec.set ?? {}, spec.valuesContent ?? '']))
    .digest('hex')
    .slice(0, 16);
  const jobName = `helm-install-${release}`;
  const failing = version.endsWith('-fail');

  const job = await server.get({ ...JOB, namespace: SYSTEM, name: jobName });
  if (job && job.metadata.annotations?.[HASH_ANNOTATION] !== hash) {
    await deleteIfPresent(server, { ...JOB, namespace: SYSTEM, name: jobName });
  }
  if (!job || job.metadata.annotations?.[HASH_ANNOTATION] !== hash) {
    const now = new Date().toISOString();
    await createIfAbsent(server, {
      ...JOB,
      metadata: { name: jobName, namespace: SYSTEM, labels: { [RELEASE_LABEL]: release }, annotations: { [HASH_ANNOTATION]: hash } },
      spec: { backoffLimit: 1000, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'helm', image: 'rancher/klipper-helm:v0.9.8' }] } } },
      status: failing
        ? {
            failed: 1,
            conditions: [
              {
                type: 'Failed',
                status: 'True',
                reason: 'BackoffLimitExceeded',
                message: `chart ${chartName} ${version} failed to install`,
                lastTransitionTime: now,
              },
            ],
          }
        : { succeeded: 1, startTime: now, completionTime: now, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: now }] },
    });
  }

  if (!failing) {
    await createIfAbsent(server, { ...NAMESPACE, metadata: { name: namespace } });
    const labels = {
      'app.kubernetes.io/instance': release,
      'app.kubernetes.io/name': chartName,
      'app.kubernetes.io/managed-by': 'Helm',
      'helm.sh/chart': `${chartName}-${version}`,
      [RELEASE_LABEL]: release,
    };
    const selector = { 'app.kubernetes.io/instance': release, 'app.kubernetes.io/name': chartName };
    const desired: KubeObject = {
      ...DEPLOYMENT,
      metadata: { name: release, namespace, labels, annotations: { 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': namespace } },
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector },
          spec: {
            containers: [
              { name: chartName, image: `registry.simulator.capstan.io/${chartName}:${version}`, resources: { requests: { cpu: '10m', memory: '16Mi' } } },
            ],
          },
        },
      },
    };
    const current = await server.get({ ...DEPLOYMENT, namespace, name: release });
    if (!current) await createIfAbsent(server, desired);
    else if (current.metadata.labels?.['helm.sh/chart'] !== labels['helm.sh/chart']) {
      await racing(() =>
        server.update({ ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, ...labels } }, spec: desired.spec }),
      );
    }
  }

  const status = (chart.status ?? {}) as { jobName?: string; conditions?: { type: string; status: string }[] };
  const conditions = failing
    ? [
        { type: 'JobCreated', status: 'True', reason: '', message: 'Applying HelmChart using Job kube-system/' + jobName },
        { type: 'Failed', status: 'True', reason: 'Error', message: `chart ${chartName} ${version} failed to install` },
      ]
    : [{ type: 'JobCreated', status: 'True', reason: '', message: 'Applying HelmChart using Job kube-system/' + jobName }];
  if (status.jobName !== jobName || JSON.stringify(status.conditions ?? []) !== JSON.stringify(conditions)) {
    await racing(() => server.mergePatch({ ...HELM_CHART, namespace: SYSTEM, name: release }, { status: { jobName, conditions } }, { subresource: 'status' }));
  }
}

async function uninstallOrphans(server: ApiServerClient, live: Set<string>): Promise<void> {
  for (const deployment of await server.list(DEPLOYMENT.apiVersion, DEPLOYMENT.kind, { labelSelector: RELEASE_LABEL })) {
    const release = deployment.metadata.labels?.[RELEASE_LABEL];
    if (!release || live.has(release)) continue;
    await deleteIfPresent(server, { ...DEPLOYMENT, namespace: deployment.metadata.namespace, name: deployment.metadata.name });
  }
  for (const job of await server.list(JOB.apiVersion, JOB.kind, { namespace: SYSTEM, labelSelector: RELEASE_LABEL })) {
    const release = job.metadata.labels?.[RELEASE_LABEL];
    if (!release || live.has(release)) continue;
    await deleteIfPresent(server, { ...JOB, namespace: SYSTEM, name: job.metadata.name });
  }
}
