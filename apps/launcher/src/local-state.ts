import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The `.capstan/` folder a local run keeps its state in: the embedded database and Redis data,
 * a generated secrets key and the demo credentials (shown at every start, for local use only).
 */
export class LocalState {
  constructor(readonly dir: string) {
    // 0755: the embedded Postgres runs as its own user and must reach its data folder in here;
    // the secret files themselves are 0600.
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Reads a small secret file, creating it with `create()` the first time (mode 0600). */
  secret(name: string, create: () => string): string {
    const file = this.path(name);
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    const value = create();
    writeFileSync(file, `${value}\n`, { mode: 0o600 });
    return value;
  }

  secretsKeyring(): string {
    return this.secret('secrets-keys', () => `local1:${randomBytes(32).toString('base64')}`);
  }
}
