import type { KubeObject } from '../../types';
import { testPod } from '../../../../test/pod-fixture';
import { JOB_TRACKING_FINALIZER, type JobStatus, planJob } from './jobs-model';

const NOW = new Date('2026-12-06T05:00:00Z');

function job(spec: Record<string, unknown>, status: JobStatus = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'j', namespace: 'default', uid: 'job-uid' },
    spec: { parallelism: 1, completions: 1, backoffLimit: 6, ...spec },
    status: status as Record<string, unknown>,
  };
}

function pod(name: string, phase: string, options: { tracked?: boolean; deleting?: boolean; ready?: boolean } = {}): KubeObject {
  return testPod(name, {
    ready: options.ready ?? false,
    metadata: {
      creationTimestamp: `2026-12-06T04:0${name.length % 10}:00Z`,
      ...((options.tracked ?? true) ? { finalizers: [JOB_TRACKING_FINALIZER] } : {}),
      ...(options.deleting ? { deletionTimestamp: '2026-12-06T05:00:30Z' } : {}),
    },
    status: { phase },
  });
}

describe('planJob', () => {
  it('starts min(parallelism, completions - succeeded) pods and sets startTime', () => {
    const plan = planJob(job({ parallelism: 3, completions: 5 }, { succeeded: 3 }), [], NOW);
    expect(plan.create).toBe(2);
    expect(plan.status).toMatchObject({ startTime: '2026-12-06T05:00:00Z', active: 2, succeeded: 3, ready: 0, terminating: 0 });
  });

  it('counts a finished pod in three steps: uncounted, finalizer released, then counted', () => {
    const first = planJob(job({}), [pod('a', 'Succeeded')], NOW);
    expect(first.status.uncountedTerminatedPods).toEqual({ succeeded: ['uid-a'] });
    expect(first.status.succeeded).toBeUndefined();
    expect(first.create).toBe(0);
    expect(first.status.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet']);

    const second = planJob(job({}, first.status), [pod('a', 'Succeeded')], NOW);
    expect(second.release.map((p) => p.metadata.name)).toEqual(['a']);
    expect(second.status.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet']);

    const third = planJob(job({}, second.status), [pod('a', 'Succeeded', { tracked: false })], NOW);
    expect(third.status).toMatchObject({ succeeded: 1, uncountedTerminatedPods: {}, completionTime: '2026-12-06T05:00:00Z' });
    expect(third.status.conditions?.map((c) => [c.type, c.reason])).toEqual([
      ['SuccessCriteriaMet', 'CompletionsReached'],
      ['Complete', 'CompletionsReached'],
    ]);
    expect(third.events).toEqual([{ type: 'Normal', reason: 'Completed', message: 'Job completed' }]);
  });

  it('replaces failed pods until backoffLimit is passed, then fails the Job and deletes its active pods', () => {
    const retry = planJob(job({ backoffLimit: 1 }, { failed: 1 }), [], NOW);
    expect(retry.create).toBe(1);
    const failing = planJob(job({ backoffLimit: 1, parallelism: 2, completions: 2 }, { failed: 2 }), [pod('run', 'Running', { ready: true })], NOW);
    expect(failing.create).toBe(0);
    expect(failing.remove.map((p) => p.metadata.name)).toEqual(['run']);
    expect(failing.status.conditions?.map((c) => [c.type, c.reason])).toEqual([['FailureTarget', 'BackoffLimitExceeded']]);
    const failed = planJob(job({ backoffLimit: 1 }, failing.status), [], NOW);
    expect(failed.status.conditions?.map((c) => c.type)).toEqual(['FailureTarget', 'Failed']);
    expect(failed.events[0]).toMatchObject({ type: 'Warning', reason: 'BackoffLimitExceeded' });
  });

  it('without completions: parallelism pods until one succeeds; suspend deletes the active pods', () => {
    expect(planJob(job({ completions: undefined, parallelism: 3 }), [], NOW).create).toBe(3);
    const suspended = planJob(job({ suspend: true }), [pod('run', 'Running')], NOW);
    expect(suspended.remove).toHaveLength(1);
    expect(suspended.status.conditions?.map((c) => [c.type, c.reason])).toEqual([['Suspended', 'JobSuspended']]);
    expect(suspended.status.startTime).toBeUndefined();
  });

  it('fails a Job past activeDeadlineSeconds', () => {
    const plan = planJob(job({ activeDeadlineSeconds: 60 }, { startTime: '2026-12-06T04:58:00Z' }), [], NOW);
    expect(plan.create).toBe(0);
    expect(plan.status.conditions?.map((c) => [c.type, c.reason])).toEqual([
      ['FailureTarget', 'DeadlineExceeded'],
      ['Failed', 'DeadlineExceeded'],
    ]);
  });
});
