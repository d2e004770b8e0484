import { Agent, request } from 'node:https';
import type { KubeObject } from '../src';
import { startTestSimulator, type TestSimulator } from './harness';

type WatchEvent = { type: string; object: KubeObject & { code?: number; reason?: string } };

/** Watches over HTTP: from a resourceVersion, bookmarks, timeoutSeconds, 410 Expired. */
describe('watching the emulated API server', () => {
  let sim: TestSimulator;
  let token: string;
  let agent: Agent;
  const servername = 'watched.clusters.simulator.capstan.test';

  beforeAll(async () => {
    sim = await startTestSimulator();
    await sim.simulator.kube.ensureApiServer({ name: 'watched', role: 'workload', distribution: 'gke', version: '1.33.5-gke.1100' });
    token = (await sim.simulator.kube.issueToken('watched', { subject: 'test', ttlSeconds: 600 })).token;
    agent = new Agent({ ca: sim.simulator.caCertificate, servername, keepAlive: false });
  });
  afterAll(async () => {
    agent?.destroy();
    await sim?.close();
  });

  const watch = (path: string, done: (events: WatchEvent[]) => boolean) => watchAt(new URL(path, sim.simulator.kubeUrl), agent, done);

  /** Reads a watch stream until `done` says so (or the server ends it); returns its events. */
  function watchAt(url: URL, agent: Agent, done: (events: WatchEvent[]) => boolean): Promise<WatchEvent[]> {
    return new Promise((resolve, reject) => {
      const events: WatchEvent[] = [];
      let buffer = '';
      const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          let newline;
          while ((newline = buffer.indexOf('\n')) >= 0) {
            events.push(JSON.parse(buffer.slice(0, newline)) as WatchEvent);
            buffer = buffer.slice(newline + 1);
          }
          if (done(events)) {
            req.destroy();
            resolve(events);
          }
        });
        res.on('end', () => resolve(events));
      });
      req.on('error', (error) => (events.length > 0 || done(events) ? resolve(events) : reject(error)));
      req.end();
    });
  }

  it('replays the events after a resourceVersion, then streams new ones', async () => {
    const server = sim.simulator.kube.server('watched');
    const first = await server.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } });
    await server.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'default' } });
    const streamed = watch(`/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${first.metadata.resourceVersion!}`, (events) => events.length >= 2);
    setTimeout(() => void server.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', namespace: 'default' }), 200);
    const events = await streamed;
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'b'],
      ['DELETED', 'a'],
    ]);
  });

  it('starts with the current objects without a resourceVersion, and ends at timeoutSeconds', async () => {
    const events = await watch('/api/v1/namespaces?watch=true&timeoutSeconds=1', () => false);
    expect(events.map((e) => e.object.metadata.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  it('streams a list with sendInitialEvents: the current objects, then a bookmark marking their end, whatever the resourceVersion', async () => {
    const events = await watch(
      '/api/v1/namespaces?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&resourceVersion=1',
      (seen) => seen.some((e) => e.type === 'BOOKMARK'),
    );
    expect(events.slice(0, -1).map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'default'],
      ['ADDED', 'kube-node-lease'],
      ['ADDED', 'kube-public'],
      ['ADDED', 'kube-system'],
    ]);
    const bookmark = events[events.length - 1]!;
    expect(bookmark).toMatchObject({ type: 'BOOKMARK', object: { kind: 'Namespace', metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } });
    expect(BigInt(bookmark.object.metadata.resourceVersion!)).toBeGreaterThanOrEqual(BigInt(events[3]!.object.metadata.resourceVersion!));
  });

  it('hears another simulator process’s writes, and answers 410 Expired from before its log begins', async () => {
    // A second process on the same database: its event log starts when it does.
    const other = await startTestSimulator({ database: sim.db });
    try {
      const otherAgent = new Agent({ ca: other.simulator.caCertificate, servername, keepAlive: false });
      const url = (path: string) => new URL(path, other.simulator.kubeUrl);
      const watchOther = (path: string, done: (events: WatchEvent[]) => boolean) => watchAt(url(path), otherAgent, done);
      const expired = await watchOther('/api/v1/namespaces?watch=true&resourceVersion=1', (e) => e.length >= 1);
      expect(expired[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });

      const list = JSON.parse((await other.kube(other.simulator.kubeUrl, '/api/v1/namespaces/default/configmaps', token, servername)).body) as {
        metadata: { resourceVersion: string };
      };
      const streamed = watchOther(
        `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${list.metadata.resourceVersion}`,
        (events) => events.length >= 1,
      );
      setTimeout(
        () =>
          void sim.simulator.kube.server('watched').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-the-first', namespace: 'default' } }),
        200,
      );
      expect((await streamed).map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', 'from-the-first']]);
      otherAgent.destroy();
    } finally {
      await other.close();
    }
  });

  it('refuses a malformed resourceVersion with 400', async () => {
    const answer = await sim.kube(sim.simulator.kubeUrl, '/api/v1/namespaces?watch=true&resourceVersion=abc', token, servername);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
  });
});
