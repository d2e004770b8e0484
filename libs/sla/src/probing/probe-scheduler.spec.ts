import { ownerOf, probeOffsetMs } from './probe-scheduler';

const clusters = Array.from({ length: 3_000 }, (_, i) => `cl_${String(i).padStart(26, '0')}`);

describe('sharding clusters across monitor replicas', () => {
  it('gives every cluster exactly one owner and spreads them evenly', () => {
    const replicas = ['a', 'b', 'c'];
    const counts = new Map<string, number>();
    for (const id of clusters) counts.set(ownerOf(id, replicas)!, (counts.get(ownerOf(id, replicas)!) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(replicas);
    for (const n of counts.values()) expect(Math.abs(n - 1_000)).toBeLessThan(150);
  });

  it("hands only the dead replica's share to the others when one dies", () => {
    const before = new Map(clusters.map((id) => [id, ownerOf(id, ['a', 'b', 'c'])]));
    const after = new Map(clusters.map((id) => [id, ownerOf(id, ['a', 'c'])]));
    for (const id of clusters) {
      if (before.get(id) !== 'b') expect(after.get(id)).toBe(before.get(id));
      else expect(['a', 'c']).toContain(after.get(id));
    }
  });

  it('does not depend on the order replicas are listed in', () => {
    for (const id of clusters.slice(0, 100)) expect(ownerOf(id, ['c', 'a', 'b'])).toBe(ownerOf(id, ['a', 'b', 'c']));
  });
});

describe('probe jitter', () => {
  it('places each cluster at a fixed point inside the interval, spread across it', () => {
    const offsets = clusters.map((id) => probeOffsetMs(id, 10_000));
    expect(offsets.every((o) => o >= 0 && o < 10_000)).toBe(true);
    expect(probeOffsetMs(clusters[0]!, 10_000)).toBe(offsets[0]);
    const buckets = new Array(10).fill(0);
    for (const o of offsets) buckets[Math.floor(o / 1_000)]++;
    for (const b of buckets) expect(b).toBeGreaterThan(200);
  });
});
