import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiServerClient, KubeObject } from '../src/kube/types';
import { startTestSimulator, type TestSimulator } from './harness';
import { type Kubectl, kubectlDir, kubectlWorkloadCluster, removeKubectlDir } from './kubectl-support';
import { eventually } from './workload-support';

/**
 * The CronJob controller judged by the real kubectl. The simulator's controllers run on a clock
 * the test moves forward a minute at a time, so schedule times come without waiting for them;
 * the controller's own wake-up timer runs on real time, so after each move the test touches the
 * CronJob (an annotation) and the controller sees the new time at once.
 */
describe('CronJobs on an emulated workload cluster (kubectl)', () => {
  const NAME = 'capstan-cronjobs-wl';
  let offsetMs = 0;
  let sim: TestSimulator;
  let server: ApiServerClient;
  let dir: string;
  let kubectl: Kubectl;
  let pokes = 0;

  const jobsOf = async (cronJob: string) =>
    (await server.list('batch/v1', 'Job', { namespace: 'default' })).filter((job) =>
      job.metadata.ownerReferences?.some((o) => o.kind === 'CronJob' && o.name === cronJob),
    );
  const cronJob = async (name: string) => (await server.get({ apiVersion: 'batch/v1', kind: 'CronJob', namespace: 'default', name }))!;
  /** Moves the controllers' clock past the next minute boundary and touches the CronJobs. */
  const nextMinute = async (...names: string[]): Promise<Date> => {
    const now = Date.now() + offsetMs;
    const boundary = Math.floor(now / 60_000) * 60_000 + 60_000;
    offsetMs += boundary + 1_000 - now;
    for (const name of names) expect(await kubectl('annotate', 'cronjob', name, `poke=${++pokes}`, '--overwrite')).toMatchObject({ code: 0 });
    return new Date(boundary);
  };

  beforeAll(async () => {
    sim = await startTestSimulator({ kubeClock: () => new Date(Date.now() + offsetMs) });
    dir = await kubectlDir('capstan-cron-');
    const kube = sim.simulator.kube;
    ({ server, kubectl } = await kubectlWorkloadCluster(kube, NAME, dir, { nodes: ['worker-a'] }));
  });
  afterAll(async () => {
    await sim?.close();
    await removeKubectlDir(dir);
  });

  it('starts a Job at each schedule time, records the times, keeps the history limit, and makes a Job by hand with --from', async () => {
    expect(await kubectl('create', 'cronjob', 'tick', '--image=busybox:1.36', '--schedule=*/1 * * * *', '--', 'echo', 'hi')).toMatchObject({
      code: 0,
      stdout: 'cronjob.batch/tick created\n',
    });
    expect(await kubectl('patch', 'cronjob', 'tick', '--type=merge', '-p', '{"spec":{"successfulJobsHistoryLimit":2}}')).toMatchObject({ code: 0 });
    // Nothing before the first schedule time.
    expect(await jobsOf('tick')).toEqual([]);

    const first = await nextMinute('tick');
    const name = `tick-${first.getTime() / 60_000}`;
    const created = await eventually(async () => (await jobsOf('tick')).find((job) => job.metadata.name === name), 'the first scheduled Job');
    expect(created.metadata.annotations).toMatchObject({ 'batch.kubernetes.io/cronjob-scheduled-timestamp': first.toISOString().replace('.000Z', 'Z') });
    expect(created.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'CronJob', name: 'tick', controller: true })]);
    expect(created.spec).toMatchObject({ template: { spec: { containers: [expect.objectContaining({ image: 'busybox:1.36', command: ['echo', 'hi'] })] } } });
    expect(await kubectl('wait', '--for=condition=complete', `job/${name}`, '--timeout=60s')).toMatchObject({ code: 0 });
    const status = await eventually<Record<string, unknown>>(async () => {
      const now: Record<string, unknown> = (await cronJob('tick')).status ?? {};
      return !!now['lastSuccessfulTime'] && !now['active'] && now;
    }, 'lastSuccessfulTime recorded');
    expect(status['lastScheduleTime']).toBe(first.toISOString().replace('.000Z', 'Z'));
    expect((await kubectl('get', 'cronjob', 'tick', '--no-headers')).stdout).toMatch(/^tick\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+0\s+\S+\s+\S+\n$/);
    const describe = (await kubectl('describe', 'cronjob', 'tick')).stdout;
    expect(describe).toMatch(/Normal\s+SuccessfulCreate\s+\S+\s+cronjob-controller\s+Created job tick-\d+/);
    expect(describe).toMatch(/Normal\s+SawCompletedJob\s+\S+\s+cronjob-controller\s+Saw completed job: tick-\d+, condition: Complete/);

    // By hand: owned by the CronJob, marked as such by kubectl, run like any Job.
    expect(await kubectl('create', 'job', 'tick-manual', '--from=cronjob/tick')).toMatchObject({ code: 0, stdout: 'job.batch/tick-manual created\n' });
    expect(await kubectl('wait', '--for=condition=complete', 'job/tick-manual', '--timeout=60s')).toMatchObject({ code: 0 });
    const manual = (await jobsOf('tick')).find((job) => job.metadata.name === 'tick-manual')!;
    expect(manual.metadata.annotations).toMatchObject({ 'cronjob.kubernetes.io/instantiate': 'manual' });

    // Two more schedule times: only the two latest successful Jobs stay.
    for (let i = 0; i < 2; i++) {
      const at = await nextMinute('tick');
      await eventually(async () => (await jobsOf('tick')).some((job) => job.metadata.name === `tick-${at.getTime() / 60_000}`), 'the next scheduled Job');
      expect(await kubectl('wait', '--for=condition=complete', `job/tick-${at.getTime() / 60_000}`, '--timeout=60s')).toMatchObject({ code: 0 });
    }
    const kept = await eventually(async () => {
      const jobs = await jobsOf('tick');
      return jobs.length === 2 && jobs;
    }, 'history trimmed to 2');
    expect(kept.map((job) => job.metadata.name)).not.toContain(name);
    expect(kept.map((job) => job.metadata.name)).not.toContain('tick-manual');
  });

  it('Forbid skips a schedule time while a Job runs, Replace replaces it, suspend stops scheduling', async () => {
    const manifest = join(dir, 'slow.yaml');
    await writeFile(
      manifest,
      [
        'apiVersion: batch/v1',
        'kind: CronJob',
        'metadata: { name: slow, namespace: default }',
        'spec:',
        '  schedule: "*/1 * * * *"',
        '  concurrencyPolicy: Forbid',
        '  jobTemplate:',
        '    spec:',
        '      template:',
        '        metadata: { annotations: { simulator.capstan.io/run-seconds: "3600" } }',
        '        spec: { restartPolicy: Never, containers: [ { name: work, image: "busybox:1.36" } ] }',
        '',
      ].join('\n'),
    );
    expect(await kubectl('apply', '-f', manifest)).toMatchObject({ code: 0 });
    await nextMinute('slow');
    const [running] = await eventually(async () => {
      const jobs = await jobsOf('slow');
      return jobs.length === 1 && jobs;
    }, 'the first slow Job');
    await eventually(async () => ((await cronJob('slow')).status?.['active'] as KubeObject[] | undefined)?.length === 1, 'one active Job');
    expect((await kubectl('get', 'cronjob', 'slow', '--no-headers')).stdout).toMatch(/^slow\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+1\s/);

    await nextMinute('slow');
    // Give the controller runs on the poke time to (wrongly) start another Job.
    await eventually(async () => (await cronJob('slow')).metadata.annotations?.['poke'] === String(pokes), 'poke seen');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await jobsOf('slow')).map((job) => job.metadata.name)).toEqual([running!.metadata.name]);

    expect(await kubectl('patch', 'cronjob', 'slow', '--type=merge', '-p', '{"spec":{"concurrencyPolicy":"Replace"}}')).toMatchObject({ code: 0 });
    const replacedAt = await nextMinute('slow');
    await eventually(async () => {
      const jobs = (await jobsOf('slow')).filter((job) => !job.metadata.deletionTimestamp);
      return jobs.length === 1 && jobs[0]!.metadata.name === `slow-${replacedAt.getTime() / 60_000}`;
    }, 'the running Job replaced');
    expect((await kubectl('describe', 'cronjob', 'slow')).stdout).toMatch(
      new RegExp(`SuccessfulDelete\\s+\\S+\\s+cronjob-controller\\s+Deleted job ${running!.metadata.name}`),
    );

    expect(await kubectl('patch', 'cronjob', 'slow', '--type=merge', '-p', '{"spec":{"suspend":true}}')).toMatchObject({ code: 0 });
    const before = (await jobsOf('slow')).map((job) => job.metadata.name);
    await nextMinute('slow');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await jobsOf('slow')).map((job) => job.metadata.name)).toEqual(before);
    expect((await kubectl('get', 'cronjob', 'slow', '--no-headers')).stdout).toMatch(/^slow\s+\*\/1 \* \* \* \*\s+<none>\s+True\s/);
  });
});
