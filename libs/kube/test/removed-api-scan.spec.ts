import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiServerClient } from '@capstan/simulator';
import { TenantKube } from '../src';
import { type EmulatedClusters, startEmulatedClusters } from './emulated-cluster';

/**
 * The removed-API preflight against an emulated RKE2 1.31 cluster, which still serves
 * flowcontrol.apiserver.k8s.io/v1beta3 (gone in 1.32). Objects are applied with the real kubectl,
 * as a customer's manifests are, so the scan judges them by the version their manifest used.
 */
describe('TenantKube removed-API scan', () => {
  const NAME = 'capstan-scan';
  let clusters: EmulatedClusters;
  let server: ApiServerClient;
  let kube: TenantKube;
  let token: string;

  const manifest = (lines: string[]) => lines.join('\n') + '\n';

  beforeAll(async () => {
    clusters = await startEmulatedClusters();
    const cluster = await clusters.cluster(NAME, '1.31.4+rke2r1');
    server = cluster.server;
    token = cluster.access.token;
    kube = new TenantKube(cluster.access);
  });
  afterAll(async () => {
    await clusters?.close();
  });

  const kubectlApply = async (yaml: string) => {
    const file = join(tmpdir(), `scan-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, yaml);
    try {
      return await clusters.kubectl(NAME, token, 'apply', '-f', file);
    } finally {
      await rm(file, { force: true });
    }
  };

  it('passes a Deployment applied through apps/v1 on the hop to 1.32', async () => {
    const applied = await kubectlApply(
      manifest([
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: web, namespace: default }',
        'spec:',
        '  replicas: 1',
        '  selector: { matchLabels: { app: web } }',
        '  template:',
        '    metadata: { labels: { app: web } }',
        '    spec: { containers: [ { name: web, image: "nginx:1.27" } ] }',
      ]),
    );
    expect(applied).toMatchObject({ code: 0 });

    const scan = await kube.scanRemovedApis('1.32');
    expect(scan.clusterVersion).toBe('v1.31.4+rke2r1');
    expect(scan.findings).toEqual([]);
    expect(scan.served).toEqual(expect.arrayContaining(['v1', 'apps/v1', 'flowcontrol.apiserver.k8s.io/v1', 'flowcontrol.apiserver.k8s.io/v1beta3']));
    expect(scan.servedButRemoved).toEqual(['flowcontrol.apiserver.k8s.io/v1beta3']);
  });

  it('blocks the hop to 1.32 for a FlowSchema applied through flowcontrol.apiserver.k8s.io/v1beta3, and names it', async () => {
    const applied = await kubectlApply(
      manifest([
        'apiVersion: flowcontrol.apiserver.k8s.io/v1beta3',
        'kind: FlowSchema',
        'metadata: { name: batch-jobs }',
        'spec:',
        '  matchingPrecedence: 1000',
        '  priorityLevelConfiguration: { name: workload-low }',
        '  rules:',
        '  - subjects: [ { kind: Group, group: { name: "system:authenticated" } } ]',
        '    resourceRules: [ { verbs: ["*"], apiGroups: ["batch"], resources: ["jobs"], namespaces: ["*"] } ]',
      ]),
    );
    expect(applied).toMatchObject({ code: 0 });

    const scan = await kube.scanRemovedApis('1.32.11');
    expect(scan.findings).toEqual([
      {
        apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3',
        kind: 'FlowSchema',
        namespace: null,
        name: 'batch-jobs',
        removedIn: '1.32',
        replacement: 'flowcontrol.apiserver.k8s.io/v1',
        source: 'last-applied',
      },
    ]);
    // What the upgrade planner takes: the FlowSchema under the version its manifest used.
    expect(scan.objects).toContainEqual({ apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3', kind: 'FlowSchema', namespace: null, name: 'batch-jobs' });
    expect(scan.scanned).toContainEqual({ apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', objects: 1 });

    // Without a target: every later removal, as the list of upgrade targets needs.
    const anyTarget = await kube.scanRemovedApis(null);
    expect(anyTarget.findings.map((f) => `${f.kind} ${f.name}`)).toEqual(['FlowSchema batch-jobs']);
  });

  it('blocks for an object a tool server-side applies through v1beta3, naming the field manager', async () => {
    const file = join(tmpdir(), `scan-ssa-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(
      file,
      manifest([
        'apiVersion: flowcontrol.apiserver.k8s.io/v1beta3',
        'kind: PriorityLevelConfiguration',
        'metadata: { name: workload-low }',
        'spec:',
        '  type: Limited',
        '  limited: { nominalConcurrencyShares: 10, limitResponse: { type: Reject } }',
      ]),
    );
    try {
      expect(await clusters.kubectl(NAME, token, 'apply', '--server-side', '--field-manager=gitops', '-f', file)).toMatchObject({ code: 0 });
    } finally {
      await rm(file, { force: true });
    }
    const scan = await kube.scanRemovedApis('1.32');
    expect(scan.findings).toContainEqual({
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3',
      kind: 'PriorityLevelConfiguration',
      namespace: null,
      name: 'workload-low',
      removedIn: '1.32',
      replacement: 'flowcontrol.apiserver.k8s.io/v1',
      source: 'managed-fields',
      manager: 'gitops',
    });
  });

  it('finds nothing to block a patch upgrade within 1.31', async () => {
    const scan = await kube.scanRemovedApis('1.31.9');
    expect(scan.findings).toEqual([]);
    expect(scan.scanned).toEqual([]);
  });

  it('passes once the FlowSchema is applied again through flowcontrol.apiserver.k8s.io/v1', async () => {
    const fs = await server.get({ apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', name: 'batch-jobs' });
    expect(fs).not.toBeNull();
    const applied = await kubectlApply(
      manifest([
        'apiVersion: flowcontrol.apiserver.k8s.io/v1',
        'kind: FlowSchema',
        'metadata: { name: batch-jobs }',
        'spec:',
        '  matchingPrecedence: 1000',
        '  priorityLevelConfiguration: { name: workload-low }',
        '  rules:',
        '  - subjects: [ { kind: Group, group: { name: "system:authenticated" } } ]',
        '    resourceRules: [ { verbs: ["*"], apiGroups: ["batch"], resources: ["jobs"], namespaces: ["*"] } ]',
      ]),
    );
    expect(applied).toMatchObject({ code: 0, stderr: '' });
    expect((await kube.scanRemovedApis('1.32')).findings.filter((f) => f.kind === 'FlowSchema')).toEqual([]);
  });
});
