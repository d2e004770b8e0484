import { startTestSimulator, type TestSimulator } from './harness';

const CLUSTERS = 2_000;

/** Runs `work` over `items` with at most `width` in flight. */
async function inBatches<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!);
      }
    }),
  );
  return results;
}

/** Many clusters share one HTTPS listener: no port, socket or process per cluster. */
describe('the simulated cloud at scale', () => {
  let sim: TestSimulator;

  beforeAll(async () => {
    sim = await startTestSimulator();
  });
  afterAll(() => sim?.close());

  it(`creates ${CLUSTERS} clusters whose API servers all answer /readyz through the one listener`, async () => {
    const names = Array.from({ length: CLUSTERS }, (_, i) => `capstan-load-${String(i).padStart(4, '0')}`);

    const started = Date.now();
    const clusters = await inBatches(names, 32, (name) =>
      sim.provider.ensureCluster({ name, flavour: 'rke2', region: 'ch-gva-2', version: '1.34.2', labels: {} }),
    );
    const created = Date.now();
    const probes = await inBatches(clusters, 32, (cluster) => sim.kube(cluster.endpoint!, '/readyz'));
    const probed = Date.now();

    expect(new Set(clusters.map((c) => new URL(c.endpoint!).port)).size).toBe(1);
    expect(probes.filter((p) => p.status === 200 && p.body === 'ok')).toHaveLength(CLUSTERS);
    const { body } = await sim.api<{ live: { clusters: number } }>('GET', '/v1/stats');
    expect(body.live.clusters).toBe(CLUSTERS);
    process.stdout.write(`${CLUSTERS} clusters: created in ${created - started} ms, /readyz of all in ${probed - created} ms\n`);
  }, 60_000);
});
