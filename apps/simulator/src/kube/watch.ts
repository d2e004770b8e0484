import type { LoggedEvent } from './event-hub';
import type { RequestContext } from './http';
import { wantsTable } from './http';
import { badRequest } from './object-rules';
import { asVersion } from './object-store';
import { joinApiVersion, splitApiVersion, type ResourceType } from './resources';
import { parseFieldSelector, parseLabelSelector } from './selectors';
import { toTable } from './table';
import { KubeApiError, type KubeObject, type WatchEventType } from './types';

/**
 * `?watch=1`: a chunked stream of JSON lines `{"type", "object"}` from the emulator's event log.
 * Without a resourceVersion (or "0") it starts with ADDED for every current object, as
 * kube-apiserver does; from a resourceVersion the log no longer reaches back it answers an ERROR
 * event with a 410 `Expired` Status (what kube-apiserver sends, and client-go relists on).
 * `sendInitialEvents=true` (with `allowWatchBookmarks` and `resourceVersionMatch=NotOlderThan`)
 * starts with the current objects whatever the resourceVersion and marks their end with a
 * BOOKMARK annotated `k8s.io/initial-events-end`, as a streaming list does upstream.
 * Simplified: an object that stops matching the selectors is not reported as DELETED.
 */
const DEFAULT_TIMEOUT_SECONDS = 1800;
const BOOKMARK_INTERVAL_MS = 10_000;

export async function serveWatch(context: RequestContext, type: ResourceType, version: string, namespace: string | undefined): Promise<void> {
  const { emulator, info, req, res, query } = context;
  const labels = parseLabelSelector(query.get('labelSelector'));
  const fields = parseFieldSelector(query.get('fieldSelector'), type.kind);
  const timeoutText = query.get('timeoutSeconds');
  const timeoutSeconds = timeoutText === null ? DEFAULT_TIMEOUT_SECONDS : Number(timeoutText);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) throw badRequest(`invalid timeoutSeconds "${timeoutText}"`);
  const since = query.get('resourceVersion');
  if (since !== null && since !== '' && !/^\d+$/.test(since)) throw badRequest(`invalid resourceVersion "${since}"`);
  const bookmarks = query.get('allowWatchBookmarks') === 'true';
  const initialEvents = query.get('sendInitialEvents') === 'true';
  if (initialEvents && (!bookmarks || query.get('resourceVersionMatch') !== 'NotOlderThan'))
    throw new KubeApiError(422, 'Invalid', 'sendInitialEvents requires allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan');
  const table = wantsTable(req);
  const group = type.group;

  const matches = (object: KubeObject) =>
    splitApiVersion(object.apiVersion).group === group &&
    object.kind === type.kind &&
    (namespace === undefined || object.metadata.namespace === namespace) &&
    labels(object) &&
    fields(object);

  // Subscribe before reading the backlog, so nothing falls between the two.
  const pending: LoggedEvent[] = [];
  let live = false;
  let last = 0n;
  const unsubscribe = emulator.events.subscribe((event) => {
    if (event.server !== info.name) return;
    const logged = event as LoggedEvent;
    if (live) deliver(logged);
    else pending.push(logged);
  });

  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const send = (eventType: WatchEventType | 'BOOKMARK' | 'ERROR', object: unknown) => {
    res.write(`${JSON.stringify({ type: eventType, object })}\n`);
  };
  const present = (object: KubeObject) => {
    const shown = asVersion(object, type, version);
    return table ? toTable(type, [shown], shown.metadata.resourceVersion ?? '') : shown;
  };
  function deliver(event: LoggedEvent): void {
    const revision = event.resourceVersion ?? BigInt(event.object.metadata.resourceVersion ?? '0');
    if (revision <= last) return;
    last = revision;
    if (matches(event.object)) send(event.type, present(event.object));
  }

  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    unsubscribe();
    clearTimeout(timer);
    clearInterval(bookmarkTimer);
    res.end();
  };
  const timer = setTimeout(finish, timeoutSeconds * 1000);
  timer.unref();
  const bookmarkTimer = setInterval(() => {
    if (bookmarks && last > 0n) {
      send('BOOKMARK', { kind: type.kind, apiVersion: joinApiVersion(type.group, version), metadata: { resourceVersion: last.toString() } });
    }
  }, BOOKMARK_INTERVAL_MS);
  bookmarkTimer.unref();
  req.on('close', finish);
  res.on('close', finish);

  try {
    if (initialEvents || since === null || since === '' || since === '0') {
      const current = await emulator.store.list(info.name, type, version, {
        ...(namespace !== undefined ? { namespace } : {}),
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector: query.get('fieldSelector') ?? undefined,
      });
      for (const object of current.items) send('ADDED', present(object));
      last = BigInt(current.resourceVersion);
      // A streaming list (WatchList, on by default in 1.32) ends its initial events with this bookmark.
      if (initialEvents) {
        const annotations = { 'k8s.io/initial-events-end': 'true' };
        send('BOOKMARK', { kind: type.kind, apiVersion: joinApiVersion(type.group, version), metadata: { resourceVersion: last.toString(), annotations } });
      }
    } else {
      const backlog = emulator.events.since(info.name, BigInt(since));
      if (backlog === 'expired') {
        send('ERROR', {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${since}`,
          reason: 'Expired',
          code: 410,
        });
        finish();
        return;
      }
      last = BigInt(since);
      for (const event of backlog) deliver(event);
    }
    live = true;
    for (const event of pending.splice(0)) deliver(event);
  } catch (error) {
    finish();
    throw error;
  }
}
