import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recordEvent } from '../src/kube/controllers/workload/events';
import type { ApiServerClient, KubeObject } from '../src/kube/types';
import { startTestSimulator, type TestSimulator } from './harness';
import { type Kubectl, kubectlDir, kubectlWorkloadCluster, removeKubectlDir } from './kubectl-support';
import { eventually } from './workload-support';

const events = async (kubectl: Kubectl, reason: string): Promise<KubeObject[]> =>
  (JSON.parse((await kubectl('get', 'events', '--field-selector', `reason=${reason}`, '-o', 'json')).stdout) as { items: KubeObject[] }).items;

/**
 * Event recording as kube-apiserver and the components' recorders leave it, judged by kubectl:
 * repeats merge into one Event with a growing series (kube-scheduler's events.k8s.io recorder)
 * or count (client-go's core recorder), which `kubectl describe` shows as "(x3 over ...)", and
 * Events go once their TTL after the last occurrence has run out.
 */
describe('Events on an emulated workload cluster (kubectl)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await kubectlDir('capstan-events-');
  });
  afterAll(async () => {
    await removeKubectlDir(dir);
  });

  describe('with the default TTL', () => {
    let sim: TestSimulator;
    let server: ApiServerClient;
    let kubectl: Kubectl;
    beforeAll(async () => {
      sim = await startTestSimulator();
      ({ server, kubectl } = await kubectlWorkloadCluster(sim.simulator.kube, 'capstan-events-wl', dir));
    });
    afterAll(async () => {
      await sim?.close();
    });

    it('merges the scheduler’s repeated FailedScheduling into one Event with a series, shown as (xN over ...)', async () => {
      const manifest = join(dir, 'picky.yaml');
      await writeFile(
        manifest,
        'apiVersion: v1\nkind: Pod\nmetadata: { name: picky, namespace: default }\nspec:\n  nodeSelector: { disk: ssd }\n  containers: [ { name: app, image: "nginx:1.27" } ]\n',
      );
      expect(await kubectl('apply', '-f', manifest)).toMatchObject({ code: 0 });
      const [first] = await eventually(async () => {
        const found = await events(kubectl, 'FailedScheduling');
        return found.length === 1 && found;
      }, 'a FailedScheduling event');
      expect(first).toMatchObject({
        type: 'Warning',
        involvedObject: { kind: 'Pod', name: 'picky' },
        reportingComponent: 'default-scheduler',
        action: 'Scheduling',
      });
      expect(first).not.toHaveProperty('series');

      // Every Node change sends the pod back to the scheduler, which fails the same way again.
      let count = 1;
      for (let round = 0; count < 3 && round < 10; round++) {
        expect(await kubectl('label', 'node', 'worker-a', `round=r${round}`, '--overwrite')).toMatchObject({ code: 0 });
        count = await eventually(
          async () => {
            const [event] = await events(kubectl, 'FailedScheduling');
            const now = (event?.['series'] as { count?: number } | undefined)?.count ?? 1;
            return now > count && now;
          },
          'the series to grow',
          10_000,
        ).catch(() => count);
      }
      expect(count).toBeGreaterThanOrEqual(3);
      const merged = await events(kubectl, 'FailedScheduling');
      expect(merged).toHaveLength(1);
      expect(merged[0]!.metadata.name).toBe(first!.metadata.name);
      expect(merged[0]!['series']).toEqual({ count, lastObservedTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/) });

      expect((await kubectl('describe', 'pod', 'picky')).stdout).toMatch(
        new RegExp(
          `Events:\\n\\s+Type\\s+Reason\\s+Age\\s+From\\s+Message\\n[\\s-]+\\n\\s+Warning\\s+FailedScheduling\\s+\\d+s \\(x${count} over \\d+s\\)\\s+default-scheduler\\s+0/2 nodes are available`,
        ),
      );
      expect((await kubectl('events', '--for', 'pod/picky')).stdout).toMatch(
        new RegExp(`\\d+s \\(x${count} over \\d+s\\)\\s+Warning\\s+FailedScheduling\\s+Pod/picky`),
      );
    });

    it('merges repeats of a core/v1 recorder into count and lastTimestamp', async () => {
      expect(await kubectl('create', 'configmap', 'watched')).toMatchObject({ code: 0 });
      const configMap = (await server.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'watched' }))!;
      const start = Date.now() - 120_000;
      for (const offset of [0, 60_000, 120_000]) {
        await recordEvent(server, configMap, {
          type: 'Normal',
          reason: 'Synced',
          message: 'in sync',
          component: 'tester',
          action: '',
          now: new Date(start + offset),
        });
      }
      await recordEvent(server, configMap, { type: 'Normal', reason: 'Synced', message: 'something else', component: 'tester', action: '', now: new Date() });

      const synced = await events(kubectl, 'Synced');
      expect(synced).toHaveLength(2);
      const repeated = synced.find((e) => e['message'] === 'in sync')!;
      expect(repeated).toMatchObject({
        count: 3,
        source: { component: 'tester' },
        firstTimestamp: new Date(start).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        lastTimestamp: new Date(start + 120_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      });
      expect(synced.find((e) => e['message'] === 'something else')).toMatchObject({ count: 1 });
      expect((await kubectl('describe', 'configmap', 'watched')).stdout).toMatch(/Normal\s+Synced\s+\d+s \(x3 over 2m\d*s?\)\s+tester\s+in sync/);
      expect((await kubectl('get', 'events', '--field-selector', 'reason=Synced', '-o', 'wide')).stdout).toMatch(
        /\n\S+\s+Normal\s+Synced\s+configmap\/watched\s+tester\s+in sync\s+2m\d*s?\s+3\s+watched\.[0-9a-f]+\n/,
      );
    });
  });

  describe('with a short TTL', () => {
    let sim: TestSimulator;
    let kubectl: Kubectl;
    beforeAll(async () => {
      sim = await startTestSimulator({ eventTtlSeconds: 2 });
      ({ kubectl } = await kubectlWorkloadCluster(sim.simulator.kube, 'capstan-events-ttl', dir));
    });
    afterAll(async () => {
      await sim?.close();
    });

    it('deletes Events once the TTL after their last occurrence has passed, whoever wrote them', async () => {
      const manifest = join(dir, 'noted.yaml');
      await writeFile(
        manifest,
        `apiVersion: v1\nkind: Event\nmetadata: { name: noted.1, namespace: default }\ninvolvedObject: { kind: Namespace, name: default, apiVersion: v1 }\nreason: Noted\nmessage: written by a client\ntype: Normal\nsource: { component: tester }\nlastTimestamp: "${new Date().toISOString()}"\ncount: 1\n`,
      );
      expect(await kubectl('apply', '-f', manifest)).toMatchObject({ code: 0 });
      expect(await events(kubectl, 'Noted')).toHaveLength(1);
      await eventually(async () => (await events(kubectl, 'Noted')).length === 0, 'the client-written event expired', 30_000);
      // The scheduler's own events go the same way: every Scheduled event of the kube-system pods is deleted again.
      const scheduled = new Map<string, string>();
      const unsubscribe = sim.simulator.kube.onChange((change) => {
        if (change.object.kind === 'Event' && change.object['reason'] === 'Scheduled') scheduled.set(change.object.metadata.name, change.type);
      });
      try {
        expect(await kubectl('create', 'deployment', 'short', '--image=nginx:1.27', '--replicas=2')).toMatchObject({ code: 0 });
        await eventually(
          async () => (await kubectl('get', 'pods', '-l', 'app=short', '--no-headers')).stdout.match(/Running/g)?.length === 2,
          'short pods running',
        );
        await eventually(async () => scheduled.size >= 2 && [...scheduled.values()].every((type) => type === 'DELETED'), 'Scheduled events expired', 30_000);
      } finally {
        unsubscribe();
      }
      expect(await events(kubectl, 'Scheduled')).toEqual([]);
    });
  });
});
