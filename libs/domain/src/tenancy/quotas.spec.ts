import fc from 'fast-check';
import { UnprocessableError } from '../errors/domain-error';
import { assertWithinQuota } from './quotas';
import { caught } from '../test/thrown';

describe('assertWithinQuota', () => {
  const quota = { maxClusters: 3, maxNodes: 10 };

  it('refuses a cluster that would exceed the node quota, naming the quota, limit and usage', () => {
    // given 4 of 10 nodes in use
    const usage = { clusters: 1, nodes: 4 };
    // when a new cluster of 8 nodes is asked for
    const error = caught(() => assertWithinQuota(quota, usage, { clusters: 1, nodes: 8 }, 'creating this cluster'));
    // then
    expect(error).toBeInstanceOf(UnprocessableError);
    expect(error.type).toBe('quota-exceeded');
    expect(error.detail).toBe("creating this cluster would use 12 nodes; the organisation's quota is 10 nodes and 4 are in use");
    expect(error.extensions).toEqual({ quota: 'nodes', limit: 10, usage: 4, requested: 8 });
  });

  it('refuses a cluster beyond the cluster quota, checking clusters first', () => {
    const error = caught(() => assertWithinQuota(quota, { clusters: 3, nodes: 10 }, { clusters: 1, nodes: 3 }));
    expect(error.detail).toBe("this request would use 4 clusters; the organisation's quota is 3 clusters and 3 are in use");
    expect(error.extensions).toMatchObject({ quota: 'clusters', limit: 3 });
  });

  it('uses the singular for one', () => {
    const error = caught(() => assertWithinQuota({ maxClusters: 1, maxNodes: 1 }, { clusters: 0, nodes: 1 }, { nodes: 1 }));
    expect(error.detail).toBe("this request would use 2 nodes; the organisation's quota is 1 node and 1 is in use");
  });

  it('allows a request that reaches the quota exactly', () => {
    expect(() => assertWithinQuota(quota, { clusters: 2, nodes: 4 }, { clusters: 1, nodes: 6 })).not.toThrow();
  });

  it('lets an organisation over a lowered quota still shrink', () => {
    // given staff lowered the node quota below what is in use
    const usage = { clusters: 5, nodes: 30 };
    // then scaling down and deleting are allowed
    expect(() => assertWithinQuota(quota, usage, { nodes: -4 })).not.toThrow();
    expect(() => assertWithinQuota(quota, usage, { clusters: -1, nodes: -6 })).not.toThrow();
    // but growing is not
    expect(caught(() => assertWithinQuota(quota, usage, { nodes: 1 })).type).toBe('quota-exceeded');
  });

  it('treats NaN as a bug rather than letting it through', () => {
    expect(() => assertWithinQuota(quota, { clusters: 0, nodes: Number.NaN }, { nodes: 1 })).toThrow(RangeError);
  });

  it('refuses exactly when an addition takes a dimension over its limit', () => {
    const n = fc.integer({ min: 0, max: 50 });
    const delta = fc.integer({ min: -10, max: 20 });
    fc.assert(
      fc.property(n, n, n, n, delta, delta, (maxClusters, maxNodes, clusters, nodes, addClusters, addNodes) => {
        const over = (limit: number, used: number, add: number) => add > 0 && used + add > limit;
        const expected = over(maxClusters, clusters, addClusters) || over(maxNodes, nodes, addNodes);
        let refused = false;
        try {
          assertWithinQuota({ maxClusters, maxNodes }, { clusters, nodes }, { clusters: addClusters, nodes: addNodes });
        } catch (e) {
          refused = e instanceof UnprocessableError && e.type === 'quota-exceeded';
        }
        expect(refused).toBe(expected);
      }),
    );
  });
});
