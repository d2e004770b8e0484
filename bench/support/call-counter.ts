import IORedis from 'ioredis';
import { Client } from 'pg';

/**
 * Counts the round trips a process makes to PostgreSQL (every `pg` Client query: Prisma's
 * driver adapter, pg Pools and plain Clients all end there) and to Redis (every ioredis command;
 * a BullMQ script is one EVALSHA), by kind. A diagnostic for BENCH_CPU_PROF runs: patching the
 * prototypes costs a little on every call.
 */
export interface CallCounts {
  /** Per group (see countCalls), per statement kind. */
  postgres: Record<string, Record<string, number>>;
  /** Per command name. */
  redis: Record<string, number>;
}

/** `SELECT operations`, `UPDATE operation_steps`, `BEGIN`, ...: the verb and the first table named. */
export function statementKind(text: string): string {
  const sql = text.trim().replace(/\s+/g, ' ');
  const verb = (/^\w+/.exec(sql)?.[0] ?? '?').toUpperCase();
  const table = /\b(?:FROM|INTO|UPDATE|JOIN)\s+(?:"?public"?\.)?"?(?:simulator\.)?([a-z_]+)"?/i.exec(sql)?.[1];
  if (verb === 'SELECT' && !table) return `SELECT ${/^SELECT\s+([a-z_.]+)/i.exec(sql)?.[1] ?? ''}`.trim();
  return table ? `${verb} ${table}` : verb;
}

interface Patchable {
  query: (...args: unknown[]) => unknown;
  connectionParameters?: { application_name?: string };
}

let counts: CallCounts | undefined;

const bump = (table: Record<string, number>, key: string) => {
  table[key] = (table[key] ?? 0) + 1;
};

/**
 * Patches pg and ioredis (once per process). `group` names the counts a query goes to, from the
 * connection's `application_name` (to tell the simulated cloud's queries from the API's).
 */
export function countCalls(group: (application: string | undefined) => string = () => 'all') {
  if (!counts) {
    const current: CallCounts = (counts = { postgres: {}, redis: {} });
    const pgProto = Client.prototype as unknown as Patchable;
    const query = pgProto.query;
    pgProto.query = function (this: Patchable, ...args: unknown[]) {
      const first = args[0];
      const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '?');
      bump((current.postgres[group(this.connectionParameters?.application_name)] ??= {}), statementKind(text));
      return query.apply(this, args);
    };
    const redisProto = IORedis.prototype as unknown as { sendCommand: (command: { name: string }, ...rest: unknown[]) => unknown };
    const sendCommand = redisProto.sendCommand;
    redisProto.sendCommand = function (this: unknown, command: { name: string }, ...rest: unknown[]) {
      bump(current.redis, command.name);
      return sendCommand.call(this, command, ...rest);
    };
  }
  const live = counts;
  return {
    reset() {
      live.postgres = {};
      live.redis = {};
    },
    snapshot: (): CallCounts => JSON.parse(JSON.stringify(live)) as CallCounts,
  };
}
