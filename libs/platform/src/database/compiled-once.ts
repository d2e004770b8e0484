import { type Compilable, createQueryId, type Kysely, type RootOperationNode } from 'kysely';
import { createHash } from 'node:crypto';
import type { DatabaseError } from 'pg';
import { Database } from './database';
import type { DB } from './generated/kysely-types';

/** feature_not_supported: "cached plan must not change result type". */
const CACHED_PLAN_CHANGED = '0A000';

/** Stands for a parameter while the statement is built: a string no real value contains. */
const placeholder = (name: string) => `\u0000capstan:parameter:${name}\u0000`;

interface Compiled {
  sql: string;
  /** The prepared statement's name on each connection of the root pool. */
  name: string;
  query: RootOperationNode;
  /** Per SQL parameter, in order: the name of the value to put there, or a constant of the statement. */
  slots: ({ name: string } | { constant: unknown })[];
}

/**
 * A statement whose SQL Kysely builds and compiles once per process instead of on every call
 * (docs/architecture.md, "Data access"). Building a query (immutable, frozen operation nodes at
 * every step) and compiling it is CPU that gives the same text every time for the same shape;
 * on the API's hottest reads (the token lookup, a cluster with its relations, a page of clusters)
 * it was the largest single cost of a request after the driver.
 *
 * `build` gets a placeholder for each named parameter and must use each as a plain value (a
 * comparison, a limit): the first call checks that every name became exactly one kind of SQL
 * parameter and none reached the text, and refuses the statement otherwise. A statement whose
 * shape depends on a value (an optional filter) needs one CompiledOnce per shape.
 *
 * A `Kysely` with plugins (which may rewrite a statement or its rows) is served the ordinary
 * way, built and compiled per call: the cached text is only ever the plugin-free one.
 *
 * On the process's root {@link Database} (no transaction, no held connection) the compiled text goes
 * straight to its pg pool, which is what Kysely's driver would do after ~15 async steps of its own
 * (connection provider, driver, connection, release). Under the request context's AsyncLocalStorage
 * every one of those promises costs an async-hooks callback; on a cached read they were ~8% of a
 * request's CPU (issue #8). The statement is still Kysely's, built and typed from the schema;
 * only its execution skips the wrapper. In a transaction or on one connection it runs through Kysely,
 * which owns that connection.
 *
 * There it also runs as a named prepared statement (DATABASE_PREPARED_STATEMENTS, on by default):
 * each pooled connection parses and analyses it once, and every later call sends only Bind and
 * Execute. PostgreSQL's parse and plan of the cluster page (two correlated JSON subqueries) cost
 * as much as executing it, on the same cores as the API. The name is a digest of the text, so two
 * processes name a statement alike (pg_stat_statements, logs). A statement whose result columns
 * change under it (a migration while old processes run) fails once with 0A000 "cached plan must
 * not change result type"; it is then prepared again under a new name, and the call retried.
 */
export class CompiledOnce<P extends Record<string, unknown>, R> {
  private compiled?: Compiled;
  /** Bumped when PostgreSQL refuses the prepared statement's cached plan (see the class comment). */
  private generation = 0;

  constructor(private readonly build: (db: Kysely<DB>, parameters: P) => Compilable<R>) {}

  async execute(db: Kysely<DB>, parameters: P): Promise<R[]> {
    if (db.getExecutor().plugins.length > 0) return (await db.executeQuery(this.build(db, parameters))).rows;
    const compiled = (this.compiled ??= this.compile(db, Object.keys(parameters)));
    const values = compiled.slots.map((slot) => ('name' in slot ? parameters[slot.name] : slot.constant));
    if (db instanceof Database)
      return db.preparedStatements ? this.prepared(db, compiled, values) : ((await db.pgPool.query({ text: compiled.sql, values })).rows as R[]);
    const result = await db.executeQuery<R>({ sql: compiled.sql, query: compiled.query, parameters: values, queryId: createQueryId() });
    return result.rows;
  }

  async executeTakeFirst(db: Kysely<DB>, parameters: P): Promise<R | undefined> {
    return (await this.execute(db, parameters))[0];
  }

  private async prepared(db: Database, compiled: Compiled, values: unknown[]): Promise<R[]> {
    const generation = this.generation;
    try {
      return (await db.pgPool.query({ name: `${compiled.name}_${generation}`, text: compiled.sql, values })).rows as R[];
    } catch (error) {
      if ((error as DatabaseError).code !== CACHED_PLAN_CHANGED) throw error;
      if (this.generation === generation) this.generation++;
      return (await db.pgPool.query({ name: `${compiled.name}_${this.generation}`, text: compiled.sql, values })).rows as R[];
    }
  }

  private compile(db: Kysely<DB>, names: string[]): Compiled {
    const placeholders = Object.fromEntries(names.map((name) => [name, placeholder(name)])) as P;
    const { sql, query, parameters } = this.build(db, placeholders).compile();
    if (sql.includes('\u0000')) throw new Error('CompiledOnce: a parameter reached the SQL text; build it as a value');
    const byPlaceholder = new Map(names.map((name) => [placeholder(name), name]));
    const slots = parameters.map((value) => {
      const name = typeof value === 'string' ? byPlaceholder.get(value) : undefined;
      if (name === undefined && typeof value === 'string' && value.includes('\u0000'))
        throw new Error('CompiledOnce: a parameter was transformed on its way to SQL; pass it as a plain value');
      return name === undefined ? { constant: value } : { name };
    });
    const unused = names.filter((name) => !slots.some((slot) => 'name' in slot && slot.name === name));
    if (unused.length > 0) throw new Error(`CompiledOnce: parameters ${unused.join(', ')} are not in the statement`);
    return { sql, query, slots, name: `capstan_${createHash('sha256').update(sql).digest('hex').slice(0, 16)}` };
  }
}
