import { fork } from 'node:child_process';
import { join } from 'node:path';

export type ServerKind = 'full' | 'bare';

export interface ServerOptions {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  secretsKeys: string;
  poolSize: number;
  rateLimitPerMinute: number;
}

export interface RunningServer {
  kind: ServerKind;
  url: string;
  /** CPU time (user + system, µs) the server process has used so far. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Starts a server under test in a child process (see server-process.ts). With BENCH_CPU_PROF set
 * to a directory, the child runs with `--cpu-prof` and writes its profile there when stopped.
 */
export async function startServer(kind: ServerKind, options: ServerOptions): Promise<RunningServer> {
  const profileDir = process.env.BENCH_CPU_PROF;
  const child = fork(join(__dirname, 'server-process.js'), [kind, JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${kind}-${Date.now()}.cpuprofile`] : [],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${kind} server did not start within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    child.once('message', (message: { type?: string; port?: number }) => {
      clearTimeout(timer);
      if (message.type === 'ready' && typeof message.port === 'number') resolve(message.port);
      else reject(new Error(`${kind} server sent ${JSON.stringify(message)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited (code ${code}) before listening`));
    });
  });
  return {
    kind,
    url: `http://127.0.0.1:${port}`,
    cpuMicros: () =>
      new Promise<number>((resolve, reject) => {
        const onMessage = (message: { type?: string; micros?: number }) => {
          if (message.type !== 'cpu' || typeof message.micros !== 'number') return;
          child.off('message', onMessage);
          resolve(message.micros);
        };
        child.on('message', onMessage);
        child.send({ type: 'cpu' }, (error) => error && reject(error));
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.send({ type: 'stop' }, (error) => error && child.kill('SIGKILL'));
      else child.kill('SIGKILL');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
