import { randomBytes } from 'node:crypto';
import type { ApiServerClient, KubeObject } from '../../types';
import { racing } from './runtime';

/**
 * Records a core/v1 Event about `object`, as a component's event recorder does, so `kubectl
 * events`, `get events` and the Events section of `kubectl describe` show what the emulated
 * components did. Named `<object>.<16 hex>` as client-go names them; written with `eventTime`
 * and `reportingComponent` as the events.k8s.io recorder of kube-scheduler writes them.
 * Best effort: a failed write is not the caller's failure (upstream drops events under load too).
 */
export async function recordEvent(
  server: ApiServerClient,
  object: KubeObject,
  event: { type: 'Normal' | 'Warning'; reason: string; message: string; component: string; action: string; now: Date },
): Promise<void> {
  const { metadata } = object;
  const time = event.now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  try {
    await racing(() =>
      server.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${metadata.name}.${randomBytes(8).toString('hex')}`, namespace: metadata.namespace ?? 'default' },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: metadata.name,
          namespace: metadata.namespace,
          uid: metadata.uid,
          resourceVersion: metadata.resourceVersion,
        },
        type: event.type,
        reason: event.reason,
        message: event.message,
        action: event.action,
        source: { component: event.component },
        reportingComponent: event.component,
        reportingInstance: event.component,
        eventTime: time,
        firstTimestamp: null,
        lastTimestamp: null,
      }),
    );
  } catch {
    // Best effort, see above.
  }
}
