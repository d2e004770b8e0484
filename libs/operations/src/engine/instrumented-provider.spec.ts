import { Metrics } from '@capstan/platform';
import { type ClusterProvider, ProviderError } from '@capstan/providers';
import { instrumentedProvider } from './instrumented-provider';

/** A driver whose calls answer as told: enough of ClusterProvider for the wrapper. */
function driver(getCluster: () => Promise<unknown>): ClusterProvider {
  return { kind: 'simulated', getCluster } as unknown as ClusterProvider;
}

async function series(metrics: Metrics, name: string) {
  return (await metrics.registry.getSingleMetric(name)!.get()).values;
}

describe('provider calls seen by steps are timed and their failures counted', () => {
  it('times a call that succeeds, labelled by provider and call, and passes its answer through', async () => {
    const metrics = new Metrics();
    const provider = instrumentedProvider(
      driver(async () => ({ name: 'c1' })),
      'rke2',
      metrics,
    );
    await expect(provider.getCluster('c1')).resolves.toEqual({ name: 'c1' });
    expect(provider.kind).toBe('simulated');
    const counts = (await series(metrics, 'capstan_provider_call_duration_seconds')).filter(
      (v) => (v as { metricName?: string }).metricName === 'capstan_provider_call_duration_seconds_count',
    );
    expect(counts).toEqual([expect.objectContaining({ labels: { provider: 'rke2', call: 'getCluster', outcome: 'ok' }, value: 1 })]);
  });

  it('counts a failure by its error code and rethrows it unchanged; codes that are not codes become `other`', async () => {
    const metrics = new Metrics();
    const failures = [new ProviderError('quota', false, 'quota_exceeded'), new ProviderError('odd', true, 'Some <HTML> page'), new Error('bug')];
    for (const failure of failures) {
      const provider = instrumentedProvider(
        driver(async () => {
          throw failure;
        }),
        'gke',
        metrics,
      );
      await expect(provider.getCluster('c1')).rejects.toBe(failure);
    }
    const errors = await series(metrics, 'capstan_provider_call_errors_total');
    expect(errors.map((v) => v.labels.code).sort()).toEqual(['other', 'quota_exceeded', 'unexpected']);
    expect(errors.every((v) => v.labels.provider === 'gke' && v.labels.call === 'getCluster' && v.value === 1)).toBe(true);
  });

  it('wraps a driver once per provider name, so steps allocate nothing per call', () => {
    const metrics = new Metrics();
    const inner = driver(async () => null);
    expect(instrumentedProvider(inner, 'rke2', metrics)).toBe(instrumentedProvider(inner, 'rke2', metrics));
    expect(instrumentedProvider(inner, 'gke', metrics)).not.toBe(instrumentedProvider(inner, 'rke2', metrics));
  });
});
