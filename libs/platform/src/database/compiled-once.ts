import { type Compilable, createQueryId, type Kysely, type RootOperationNode } from 'kysely';
import { Database } from './database';
import type { DB } from './generated/kysely-types';

/** Stands for a parameter while the statement is built: a string no real value contains. */
const placeholder = (name: string) => `\u0000capstan:parameter:${name}\u0000`;

interface Compiled {
  sql: string;
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
 */
export class CompiledOnce<P extends Record<string, unknown>, R> {
  private compiled?: Compiled;

  constructor(private readonly build: (db: Kysely<DB>, parameters: P) => Compilable<R>) {}

  async execute(db: Kysely<DB>, parameters: P): Promise<R[]> {
    if (db.getExecutor().plugins.length > 0) return (await db.executeQuery(this.build(db, parameters))).rows;
    const compiled = (this.compiled ??= this.compile(db, Object.keys(parameters)));
    const values = compiled.slots.map((slot) => ('name' in slot ? parameters[slot.name] : slot.constant));
    if (db instanceof Database) return (await db.pgPool.query({ text: compiled.sql, values })).rows as R[];
    const result = await db.executeQuery<R>({ sql: compiled.sql, query: compiled.query, parameters: values, queryId: createQueryId() });
    return result.rows;
  }

  async executeTakeFirst(db: Kysely<DB>, parameters: P): Promise<R | undefined> {
    return (await this.execute(db, parameters))[0];
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
    return { sql, query, slots };
  }
}
