import { Client } from 'pg';

interface Patchable {
  query: (...args: unknown[]) => unknown;
  /** Operation ids whose outbox message this connection wrote in its open transaction. */
  __outbox?: string[];
}

/**
 * When the API's transactions that wrote an outbox message committed, as the API saw it (its
 * COMMIT answered), by operation id: the start of the outbox relay's lag as issue 9 defines it
 * ("from the API's commit to the job being in BullMQ"). Postgres keeps no commit time unless
 * `track_commit_timestamp` is on, and the message's own `created_at` is written before the
 * commit (after the row-lock waits of the transaction, which are not the relay's).
 *
 * Patches pg's Client in this process (the in-process API of the bench): an INSERT into
 * outbox_messages notes its operation id (the `dedupe_key` parameter) on the connection; the
 * connection's next COMMIT records them with the time it returned; a ROLLBACK forgets them.
 */
export function recordOutboxCommits(): { commits: Map<string, number>; stop(): void } {
  const commits = new Map<string, number>();
  const proto = Client.prototype as unknown as Patchable;
  const original = proto.query;
  proto.query = function (this: Patchable, ...args: unknown[]) {
    const first = args[0] as string | { text?: string; values?: unknown[] } | undefined;
    const text = typeof first === 'string' ? first : (first?.text ?? '');
    const values = (typeof first === 'string' ? args[1] : first?.values) as unknown[] | undefined;
    const result = original.apply(this, args);
    if (/insert into "outbox_messages"/i.test(text)) {
      const id = values?.find((v): v is string => typeof v === 'string' && v.startsWith('op_'));
      if (id) (this.__outbox ??= []).push(id);
    } else if (this.__outbox?.length && /^\s*(commit|rollback)\b/i.test(text)) {
      const ids = this.__outbox;
      this.__outbox = [];
      if (/^\s*commit/i.test(text) && result instanceof Promise)
        void result.then(
          () => {
            const at = Date.now();
            for (const id of ids) commits.set(id, at);
          },
          () => undefined,
        );
    }
    return result;
  };
  return {
    commits,
    stop: () => {
      proto.query = original;
    },
  };
}
