import { ProviderError } from '@capstan/providers';
import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { clusterSpec, startTestSimulator, type TestSimulator } from './harness';

/**
 * Two simulators on one database are one cloud: faults live in its tables and every call reads
 * them, so a fault injected through either is honoured by both from the very next call.
 */
describe('two simulators on one database', () => {
  let db: TestDatabase;
  let first: TestSimulator;
  let second: TestSimulator;

  beforeAll(async () => {
    db = await createTestDatabase();
    first = await startTestSimulator({ database: db });
    second = await startTestSimulator({ database: db });
    await first.provider.ensureCluster(clusterSpec('capstan-shared'));
  });
  afterEach(() => first.api('DELETE', '/v1/chaos/faults'));
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await db?.drop();
  });

  const outcome = (work: Promise<unknown>) =>
    work.then(
      () => 'ok',
      (error: unknown) => (error instanceof ProviderError ? error.code : 'other'),
    );

  it('fails the very next call on one with a fault injected through the other', async () => {
    expect(await outcome(second.provider.getCluster('capstan-shared'))).toBe('ok');

    await first.api('POST', '/v1/chaos/faults', { match: { call: 'getCluster', cluster: 'capstan-shared' }, mode: 'fail_always' });
    expect(await outcome(second.provider.getCluster('capstan-shared'))).toBe('injected_fault');

    await first.api('DELETE', '/v1/chaos/faults');
    expect(await outcome(second.provider.getCluster('capstan-shared'))).toBe('ok');
  });

  it('loses the answer on one after the change took effect, for a fault injected through the other', async () => {
    await second.api('POST', '/v1/chaos/faults', { match: { call: 'ensureCluster', cluster: 'capstan-shared-late' }, mode: 'fail_once', at: 'response' });

    expect(await outcome(first.provider.ensureCluster(clusterSpec('capstan-shared-late')))).toBe('injected_fault');
    expect(await first.provider.getCluster('capstan-shared-late')).toMatchObject({ status: 'running' });
  });

  it('fires a fail_once fault exactly once across concurrent calls to both', async () => {
    await second.api('POST', '/v1/chaos/faults', { match: { call: 'getCluster' }, mode: 'fail_once' });

    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => outcome((i % 2 === 0 ? first : second).provider.getCluster('capstan-shared'))));

    expect(outcomes.filter((o) => o === 'injected_fault')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(11);
    const { body } = await first.api<{ items: { hits: number; remaining: number }[] }>('GET', '/v1/chaos/faults');
    expect(body.items).toEqual([expect.objectContaining({ hits: 1, remaining: 0 })]);
  });

  it('counts the calls made to either in one set of stats, exact as soon as each call returns', async () => {
    await first.provider.getCluster('capstan-shared-count');
    await second.provider.getCluster('capstan-shared-count');
    await second.provider.getCluster('capstan-shared-count');

    for (const sim of [first, second]) {
      const { body } = await sim.api<{ items: { count: number }[] }>('GET', '/v1/stats/calls?call=getCluster&cluster=capstan-shared-count');
      expect(body.items).toEqual([expect.objectContaining({ count: 3 })]);
    }
  });
});
