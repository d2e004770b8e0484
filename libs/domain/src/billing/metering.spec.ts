import { meterCluster, meteringFactsOf, type RecordedCluster } from './metering';

const at = (iso: string) => new Date(iso);

function recorded(overrides: Partial<RecordedCluster> = {}): RecordedCluster {
  return {
    id: 'cl_1',
    organizationId: 'org_1',
    name: 'alpha',
    provider: 'rke2',
    region: 'nine-cz41',
    createdAt: at('2026-11-01T09:00:00Z'),
    deletedAt: null,
    pools: [],
    backups: [],
    operations: [],
    ...overrides,
  };
}

const op = (type: string, targetId: string, finishedAt: string | null, status = 'succeeded', previousNodeCount: number | null = null) => ({
  type,
  status,
  targetId,
  finishedAt: finishedAt ? at(finishedAt) : null,
  previousNodeCount,
});

describe('metering what Capstan recorded of a cluster', () => {
  it('starts billing when creation succeeded, not when it was asked for', () => {
    const intervals = meterCluster(meteringFactsOf(recorded({ operations: [op('create_cluster', 'cl_1', '2026-11-01T09:12:34Z')] })));
    expect(intervals).toEqual([expect.objectContaining({ kind: 'cluster_fee', start: at('2026-11-01T09:12:34Z'), end: null })]);
  });

  it('counts a resize from the success of its operation, ignoring failed ones', () => {
    const intervals = meterCluster(
      meteringFactsOf(
        recorded({
          pools: [{ id: 'np_1', machineType: 'nine-standard-4', nodeCount: 4, createdAt: at('2026-11-01T09:00:00Z'), deletedAt: null }],
          operations: [
            op('create_cluster', 'cl_1', '2026-11-01T10:00:00Z'),
            op('scale_node_pool', 'np_1', '2026-11-03T00:00:00Z', 'succeeded', 2),
            // failed and put back: the next change's previous size says the pool stayed at 6
            op('scale_node_pool', 'np_1', '2026-11-04T00:00:00Z', 'failed', 6),
            op('update_node_pool', 'np_1', '2026-11-05T00:00:00Z', 'succeeded', 6),
          ],
        }),
      ),
    ).filter((i) => i.kind === 'node');
    expect(intervals.map((i) => [i.quantity, i.start.toISOString(), i.end?.toISOString() ?? null])).toEqual([
      ['2', '2026-11-01T10:00:00.000Z', '2026-11-03T00:00:00.000Z'],
      ['6', '2026-11-03T00:00:00.000Z', '2026-11-05T00:00:00.000Z'],
      ['4', '2026-11-05T00:00:00.000Z', null],
    ]);
  });

  it('starts a pool added later at its own creation, and never one whose creation failed', () => {
    const facts = meteringFactsOf(
      recorded({
        pools: [
          { id: 'np_late', machineType: 'nine-standard-8', nodeCount: 1, createdAt: at('2026-11-10T00:00:00Z'), deletedAt: at('2026-11-12T00:00:00Z') },
          { id: 'np_failed', machineType: 'nine-standard-8', nodeCount: 3, createdAt: at('2026-11-11T00:00:00Z'), deletedAt: null },
        ],
        operations: [
          op('create_cluster', 'cl_1', '2026-11-01T10:00:00Z'),
          op('create_node_pool', 'np_late', '2026-11-10T00:05:00Z'),
          op('create_node_pool', 'np_failed', '2026-11-11T00:30:00Z', 'failed'),
        ],
      }),
    );
    const nodes = meterCluster(facts).filter((i) => i.kind === 'node');
    expect(nodes.map((i) => [i.resourceId, i.start.toISOString(), i.end?.toISOString()])).toEqual([
      ['np_late', '2026-11-10T00:05:00.000Z', '2026-11-12T00:00:00.000Z'],
    ]);
  });

  it("ends every pool's usage with its cluster", () => {
    const nodes = meterCluster(
      meteringFactsOf(
        recorded({
          deletedAt: at('2026-11-20T00:00:00Z'),
          pools: [{ id: 'np_1', machineType: 'nine-standard-4', nodeCount: 2, createdAt: at('2026-11-01T09:00:00Z'), deletedAt: null }],
          operations: [op('create_cluster', 'cl_1', '2026-11-01T10:00:00Z')],
        }),
      ),
    );
    expect(nodes.every((i) => i.end?.toISOString() === '2026-11-20T00:00:00.000Z')).toBe(true);
  });

  it('bills an optional add-on from its successful install until its successful removal, and never a default one', () => {
    const addon = (finishedAt: string, name: string, action: 'install' | 'remove', tier = 'optional', status = 'succeeded') => ({
      ...op('update_addons', 'cl_1', finishedAt, status),
      addon: { name, action, tier },
    });
    const facts = meteringFactsOf(
      recorded({
        operations: [
          op('create_cluster', 'cl_1', '2026-11-01T09:00:00Z'),
          addon('2026-11-02T10:00:00Z', 'keda', 'install'),
          // a settings change of a running add-on does not restart its period
          addon('2026-11-03T10:00:00Z', 'keda', 'install'),
          addon('2026-11-04T10:00:00Z', 'keda', 'remove'),
          addon('2026-11-05T10:00:00Z', 'argo-cd', 'install', 'optional', 'failed'),
          addon('2026-11-06T10:00:00Z', 'argo-cd', 'install'),
          addon('2026-11-06T11:00:00Z', 'cert-manager', 'remove', 'default'),
        ],
      }),
    );
    expect(facts.addons).toEqual([
      { name: 'keda', startedAt: at('2026-11-02T10:00:00Z'), endedAt: at('2026-11-04T10:00:00Z') },
      { name: 'argo-cd', startedAt: at('2026-11-06T10:00:00Z'), endedAt: null },
    ]);
    expect(meterCluster(facts).filter((i) => i.kind === 'addon')).toEqual([
      expect.objectContaining({ sku: 'keda', resourceId: 'cl_1/keda', start: at('2026-11-02T10:00:00Z'), end: at('2026-11-04T10:00:00Z') }),
      expect.objectContaining({ sku: 'argo-cd', start: at('2026-11-06T10:00:00Z'), end: null }),
    ]);
  });

  it('meters a backup in GiB from its completion until it expires', () => {
    const intervals = meterCluster(
      meteringFactsOf(
        recorded({
          operations: [op('create_cluster', 'cl_1', '2026-11-01T10:00:00Z')],
          backups: [
            {
              id: 'bk_1',
              sizeBytes: 3n * 1024n ** 3n + 1024n ** 3n / 2n,
              status: 'succeeded',
              completedAt: at('2026-11-02T00:00:00Z'),
              expiresAt: at('2026-11-09T00:00:00Z'),
            },
            { id: 'bk_2', sizeBytes: 1024n, status: 'failed', completedAt: null, expiresAt: null },
          ],
        }),
      ),
    ).filter((i) => i.kind === 'backup_storage');
    expect(intervals).toEqual([
      expect.objectContaining({ resourceId: 'bk_1', quantity: '3.5', start: at('2026-11-02T00:00:00Z'), end: at('2026-11-09T00:00:00Z') }),
    ]);
  });
});
