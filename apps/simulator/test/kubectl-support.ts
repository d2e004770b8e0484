import { type Kubectl, type KubectlResult, kubectlRunner } from '@capstan/testing';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigYaml } from '../src/kube/kubeconfig';
import type { ApiServerClient, KubeEmulator } from '../src/kube/types';
import { addNodes } from './workload-support';

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

/**
 * The emulated RKE2 workload cluster `name` at `version` with Ready worker `nodes` (kubelets of
 * the same version), and kubectl as Capstan's admin on it (its kubeconfig `<name>.kubeconfig` in
 * `dir`, so several clusters can share one directory).
 */
export async function kubectlWorkloadCluster(
  kube: KubeEmulator,
  name: string,
  dir: string,
  options: { version?: string; nodes?: string[] } = {},
): Promise<{ server: ApiServerClient; kubectl: Kubectl; token: string }> {
  const version = options.version ?? '1.32.4+rke2r1';
  await kube.ensureApiServer({ name, role: 'workload', distribution: 'rke2', version });
  const server = kube.server(name);
  await addNodes(server, options.nodes ?? ['worker-a', 'worker-b'], `v${version}`);
  const { kubectl, token } = await adminKubectl(kube, name, dir, `${name}.kubeconfig`);
  return { server, kubectl, token };
}

/** Writes `manifest` to `<name>.yaml` in `dir` and applies it. */
export async function applyManifest(kubectl: Kubectl, dir: string, name: string, manifest: string): Promise<KubectlResult> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, manifest);
  return kubectl('apply', '-f', file);
}
