import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '@capstan/testing';

/** The built CLI, as `npm start` and `npm run build` leave it. */
export const CLI = join(WORKSPACE_ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');

export function assertCliBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `capstan ...args` as a process, as a person runs it: its own HOME (so no config of the
 * machine's user leaks in), the API and token from the environment, nothing else inherited but PATH.
 */
export interface CliTarget {
  home: string;
  apiUrl: string;
  token: string;
}

/** The CLI's process, for a test that drives its streams itself. */
export function spawnCapstan(target: CliTarget, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: target.home,
      XDG_CONFIG_HOME: join(target.home, '.config'),
      CAPSTAN_URL: target.apiUrl,
      CAPSTAN_TOKEN: target.token,
    },
  });
}

export function runCapstan(target: CliTarget, args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawnCapstan(target, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += String(c)));
    child.stderr.on('data', (c) => (stderr += String(c)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
