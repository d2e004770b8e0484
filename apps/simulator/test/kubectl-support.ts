import { type Kubectl, kubectlRunner } from '@capstan/testing';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigYaml } from '../src/kube/kubeconfig';
import type { KubeEmulator } from '../src/kube/types';

export type { Kubectl, KubectlResult } from '@capstan/testing';

/** A temporary directory for one suite's kubeconfigs, manifests and kubectl's HOME. */
export async function kubectlDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes what kubectlDir made; safe in an afterAll whose beforeAll failed before making it. */
export async function removeKubectlDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** kubectl with `kubeconfigText` (the management cluster's, say) written to `file` in `dir`; the path is for suites that run kubectl otherwise (a watch). */
export async function kubectlFor(dir: string, kubeconfigText: string, file = 'kubeconfig'): Promise<{ kubectl: Kubectl; kubeconfig: string }> {
  const kubeconfig = join(dir, file);
  await writeFile(kubeconfig, kubeconfigText);
  return { kubectl: kubectlRunner(kubeconfig, dir), kubeconfig };
}

/**
 * kubectl as Capstan's admin on the emulated API server `name`: a token that never expires, in
 * the kubeconfig Capstan hands out for that server. The token comes back for suites that also
 * call the server directly.
 */
export async function adminKubectl(
  kube: KubeEmulator,
  name: string,
  dir: string,
  file = 'kubeconfig',
): Promise<{ kubectl: Kubectl; kubeconfig: string; token: string }> {
  const { token } = await kube.issueToken(name, { subject: 'capstan-admin', ttlSeconds: null });
  const kubeconfigText = kubeconfigYaml({ name, url: kube.url, kubeDomain: kube.kubeDomain, caCertificatePem: kube.caCertificatePem, token });
  return { ...(await kubectlFor(dir, kubeconfigText, file)), token };
}
