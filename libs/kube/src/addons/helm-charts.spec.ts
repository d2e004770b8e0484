import { managedAddonsFor } from '@capstan/domain';
import { distributionOf } from './chart-sources';
import { addonFromHelmChart, helmChartFor } from './helm-charts';

describe('HelmChart add-ons', () => {
  it('has a chart for every managed add-on of every offered minor', () => {
    for (const minor of [31, 32, 33, 34, 35, 36]) for (const addon of managedAddonsFor(`1.${minor}.0`)) expect(() => helmChartFor(addon)).not.toThrow();
  });

  it('builds a labelled HelmChart in kube-system with the add-on version', () => {
    expect(helmChartFor({ name: 'cert-manager', version: '1.19.1' })).toEqual({
      apiVersion: 'helm.cattle.io/v1',
      kind: 'HelmChart',
      metadata: {
        name: 'capstan-cert-manager',
        namespace: 'kube-system',
        labels: { 'app.kubernetes.io/managed-by': 'capstan', 'capstan.io/addon': 'cert-manager' },
      },
      spec: { repo: 'https://charts.jetstack.io', chart: 'cert-manager', version: '1.19.1', targetNamespace: 'cert-manager', createNamespace: true },
    });
    expect(() => helmChartFor({ name: 'mystery', version: '1' })).toThrow('no chart source for add-on mystery');
  });

  it("reads helm-controller's status back", () => {
    const chart = (status: object) => ({ metadata: { labels: { 'capstan.io/addon': 'keda' } }, spec: { version: '2.18.1' }, status });
    expect(addonFromHelmChart(chart({}))).toEqual({ name: 'keda', version: '2.18.1', state: 'pending', managedBy: 'capstan' });
    expect(addonFromHelmChart(chart({ jobName: 'helm-install-capstan-keda' }))).toMatchObject({ state: 'installing', jobName: 'helm-install-capstan-keda' });
    expect(addonFromHelmChart(chart({ jobName: 'j', conditions: [{ type: 'Failed', status: 'True', message: 'chart not found' }] }))).toMatchObject({
      state: 'failed',
      message: 'chart not found',
    });
    expect(addonFromHelmChart({ metadata: { labels: {} } })).toBeNull();
  });

  it('tells the distribution from the version string', () => {
    expect(distributionOf('v1.31.4+rke2r1')).toBe('rke2');
    expect(distributionOf('v1.36.2-gke.1100')).toBe('gke');
    expect(distributionOf('v1.33.1')).toBe('kubernetes');
  });
});
