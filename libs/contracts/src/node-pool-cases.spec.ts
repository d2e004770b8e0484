/**
 * Node-pool request cases (docs/upgrades.md, "Version skew"): surge defaults and the rule that a
 * pool's version moves only inside a cluster upgrade, so it is never newer than its control plane
 * (kubernetes.io/releases/version-skew-policy: kubelet never newer than kube-apiserver).
 */
import { createNodePool, updateNodePool } from './clusters.routes';

const pool = { name: 'workers', machine_type: 'nine-standard-4', count: 3 };

describe('node-pool requests', () => {
  it('defaults surge to max_surge 1 and max_unavailable 0 (Cluster API RollingUpdate defaults)', () => {
    const parsed = createNodePool.body!.parse(pool);
    expect(parsed).toMatchObject({ max_surge: 1, max_unavailable: 0 });
  });

  it('refuses max_surge 0 with max_unavailable 0, naming max_surge', () => {
    const result = createNodePool.body!.safeParse({ ...pool, max_surge: 0, max_unavailable: 0 });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toEqual(['max_surge']);
  });

  it('takes no version on a pool, at create or in a PATCH: a pool-only upgrade above the control plane cannot be asked for', () => {
    for (const result of [createNodePool.body!.safeParse({ ...pool, version: '1.36' }), updateNodePool.body!.safeParse({ count: 4, version: '1.36' })]) {
      expect(result.success).toBe(false);
      expect(result.error!.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['version'] })]);
    }
  });
});
