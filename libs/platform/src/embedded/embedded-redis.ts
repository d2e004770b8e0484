import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createConnection } from 'node:net';

export interface EmbeddedRedisOptions {
  /** Folder for the append-only file; data survives a restart when set. */
  dataDir?: string;
  port: number;
}

export class RedisServerMissingError extends Error {
  constructor() {
    super('redis-server is not installed: install it (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) or set REDIS_URL');
  }
}

/** A `redis-server` from the PATH, run as a child process on its own port. */
export class EmbeddedRedisServer {
  private child: ChildProcess | undefined;

  constructor(private readonly options: EmbeddedRedisOptions) {}

  get url(): string {
    return `redis://127.0.0.1:${this.options.port}`;
  }

  static isInstalled(): boolean {
    return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  }

  async start(): Promise<void> {
    if (!EmbeddedRedisServer.isInstalled()) throw new RedisServerMissingError();
    const args = ['--port', String(this.options.port), '--bind', '127.0.0.1', '--save', ''];
    if (this.options.dataDir) {
      await mkdir(this.options.dataDir, { recursive: true });
      args.push('--dir', this.options.dataDir, '--appendonly', 'yes');
    } else {
      args.push('--appendonly', 'no');
    }
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForPort(this.options.port, 10_000);
  }

  /** Stops the server; `SIGKILL` simulates a crash, the default lets it flush and exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
    this.child = undefined;
  }
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
