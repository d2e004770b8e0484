import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What one kubectl run answered: a non-zero exit is an answer for the test to judge, not a throw. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Kubectl = (...args: string[]) => Promise<KubectlResult>;

/**
 * The real kubectl with `kubeconfig`. HOME is `home` (the test's temporary directory) so kubectl's
 * discovery cache stays out of the user's ~/.kube and starts empty in every suite; the request
 * timeout makes a call the emulator never answers fail the test instead of hanging it.
 */
export function kubectlRunner(kubeconfig: string, home: string): Kubectl {
  return async (...args) => {
    try {
      const { stdout, stderr } = await run('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], { env: { ...process.env, HOME: home } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };
}
