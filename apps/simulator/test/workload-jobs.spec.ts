import type { ApiServerClient, KubeObject } from '../src/kube/types';
import { startTestSimulator, type TestSimulator } from './harness';
import { applyManifest, type Kubectl, kubectlDir, kubectlWorkloadCluster, removeKubectlDir } from './kubectl-support';
import { eventually } from './workload-support';

/**
 * The Job controller judged by the real kubectl: a Job's pods run and complete, parallelism and
 * completions are kept, failures beyond backoffLimit fail the Job, and deleting a Job takes its
 * pods (none held by the tracking finalizer).
 */
describe('Jobs on an emulated workload cluster (kubectl)', () => {
  const NAME = 'capstan-jobs-wl';
  let sim: TestSimulator;
  let server: ApiServerClient;
  let dir: string;
  let kubectl: Kubectl;

  const job = async (name: string) => JSON.parse((await kubectl('get', 'job', name, '-o', 'json')).stdout) as KubeObject;
  const apply = (name: string, manifest: string) => applyManifest(kubectl, dir, name, manifest);

  beforeAll(async () => {
    sim = await startTestSimulator();
    dir = await kubectlDir('capstan-jobs-');
    const kube = sim.simulator.kube;
    ({ server, kubectl } = await kubectlWorkloadCluster(kube, NAME, dir));
  });
  afterAll(async () => {
    await sim?.close();
    await removeKubectlDir(dir);
  });

  it('runs a Job created with kubectl create job to completion', async () => {
    expect(await kubectl('create', 'job', 'hello', '--image=busybox:1.36', '--', 'echo', 'hi')).toMatchObject({ code: 0, stdout: 'job.batch/hello created\n' });
    expect(await kubectl('wait', '--for=condition=complete', 'job/hello', '--timeout=60s')).toMatchObject({
      code: 0,
      stdout: 'job.batch/hello condition met\n',
    });
    expect((await kubectl('get', 'job', 'hello', '--no-headers')).stdout).toMatch(/^hello\s+Complete\s+1\/1\s+\d+s\s+\d+s\n$/);
    expect((await kubectl('get', 'pods', '-l', 'job-name=hello', '--no-headers')).stdout).toMatch(/^hello-[a-z0-9]{5}\s+0\/1\s+Completed\s+0\s+\S+\n$/);

    const done = await job('hello');
    expect(done.spec).toMatchObject({
      parallelism: 1,
      completions: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': done.metadata.uid } },
      template: { metadata: { labels: { 'batch.kubernetes.io/job-name': 'hello', 'job-name': 'hello', 'controller-uid': done.metadata.uid } } },
    });
    expect(done.status).toMatchObject({
      succeeded: 1,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
      startTime: expect.any(String),
      completionTime: expect.any(String),
    });
    expect(done.status).not.toHaveProperty('active');
    const conditions = (done.status?.['conditions'] as { type: string; status: string; reason: string }[]).map((c) => [c.type, c.status, c.reason]);
    expect(conditions).toEqual([
      ['SuccessCriteriaMet', 'True', 'CompletionsReached'],
      ['Complete', 'True', 'CompletionsReached'],
    ]);
    const pods = await server.list('v1', 'Pod', { namespace: 'default', labelSelector: 'job-name=hello' });
    expect(pods).toHaveLength(1);
    expect(pods[0]!.metadata.finalizers ?? []).toEqual([]);

    const describe = (await kubectl('describe', 'job', 'hello')).stdout;
    expect(describe).toMatch(/\nPods Statuses:\s+0 Active \(0 Ready\) \/ 1 Succeeded \/ 0 Failed\n/);
    expect(describe).toMatch(/Normal\s+SuccessfulCreate\s+\S+\s+job-controller\s+Created pod: hello-[a-z0-9]{5}/);
    expect(describe).toMatch(/Normal\s+Completed\s+\S+\s+job-controller\s+Job completed/);
  });

  it('keeps at most parallelism pods running until completions succeed', async () => {
    let maxActive = 0;
    const unsubscribe = sim.simulator.kube.onChange((change) => {
      if (change.server === NAME && change.object.kind === 'Job' && change.object.metadata.name === 'batch') {
        maxActive = Math.max(maxActive, (change.object.status?.['active'] as number | undefined) ?? 0);
      }
    });
    try {
      const applied = await apply(
        'batch',
        [
          'apiVersion: batch/v1',
          'kind: Job',
          'metadata: { name: batch, namespace: default }',
          'spec:',
          '  completions: 4',
          '  parallelism: 2',
          '  template:',
          '    metadata: { annotations: { simulator.capstan.io/run-seconds: "1" } }',
          '    spec: { restartPolicy: Never, containers: [ { name: work, image: "busybox:1.36" } ] }',
          '',
        ].join('\n'),
      );
      expect(applied).toMatchObject({ code: 0 });
      await eventually(async () => /^batch\s+Running\s+[0-3]\/4\s/.test((await kubectl('get', 'job', 'batch', '--no-headers')).stdout), 'batch running');
      expect(await kubectl('wait', '--for=condition=complete', 'job/batch', '--timeout=90s')).toMatchObject({ code: 0 });
    } finally {
      unsubscribe();
    }
    expect(maxActive).toBe(2);
    expect((await kubectl('get', 'job', 'batch', '--no-headers')).stdout).toMatch(/^batch\s+Complete\s+4\/4\s/);
    expect((await kubectl('get', 'pods', '-l', 'job-name=batch', '--no-headers')).stdout.match(/Completed/g)).toHaveLength(4);
  });

  it('fails a Job whose pods fail more often than backoffLimit allows', async () => {
    const applied = await apply(
      'broken',
      [
        'apiVersion: batch/v1',
        'kind: Job',
        'metadata: { name: broken, namespace: default }',
        'spec:',
        '  backoffLimit: 2',
        '  template:',
        '    metadata: { annotations: { simulator.capstan.io/exit-code: "1" } }',
        '    spec: { restartPolicy: Never, containers: [ { name: work, image: "busybox:1.36" } ] }',
        '',
      ].join('\n'),
    );
    expect(applied).toMatchObject({ code: 0 });
    expect(await kubectl('wait', '--for=condition=failed', 'job/broken', '--timeout=90s')).toMatchObject({ code: 0 });
    const failed = await job('broken');
    expect(failed.status).toMatchObject({ failed: 3 });
    expect(failed.status).not.toHaveProperty('succeeded');
    expect((failed.status?.['conditions'] as { type: string; reason: string }[]).map((c) => [c.type, c.reason])).toEqual([
      ['FailureTarget', 'BackoffLimitExceeded'],
      ['Failed', 'BackoffLimitExceeded'],
    ]);
    expect((await kubectl('get', 'job', 'broken', '--no-headers')).stdout).toMatch(/^broken\s+Failed\s+0\/1\s/);
    expect((await kubectl('get', 'pods', '-l', 'job-name=broken', '--no-headers')).stdout.match(/\s0\/1\s+Error\s/g)).toHaveLength(3);
    expect((await kubectl('describe', 'job', 'broken')).stdout).toMatch(
      /Warning\s+BackoffLimitExceeded\s+\S+\s+job-controller\s+Job has reached the specified backoff limit/,
    );
  });

  it('takes a deleted Job’s pods with it, a running one included', async () => {
    const applied = await apply(
      'long',
      [
        'apiVersion: batch/v1',
        'kind: Job',
        'metadata: { name: long, namespace: default }',
        'spec:',
        '  template:',
        '    metadata: { annotations: { simulator.capstan.io/run-seconds: "3600" } }',
        '    spec: { restartPolicy: Never, containers: [ { name: work, image: "busybox:1.36" } ] }',
        '',
      ].join('\n'),
    );
    expect(applied).toMatchObject({ code: 0 });
    await eventually(async () => /\s1\/1\s+Running\s/.test((await kubectl('get', 'pods', '-l', 'job-name=long', '--no-headers')).stdout), 'long pod running');
    expect((await job('long')).status).toMatchObject({ active: 1, ready: 1 });
    expect(await kubectl('delete', 'job', 'long', '--wait=true', '--timeout=60s')).toMatchObject({ code: 0 });
    await eventually(async () => (await server.list('v1', 'Pod', { namespace: 'default', labelSelector: 'job-name=long' })).length === 0, 'long pods gone');
  });
});
