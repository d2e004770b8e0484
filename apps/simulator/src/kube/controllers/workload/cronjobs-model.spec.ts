import type { KubeObject } from '../../types';
import { jobFor, jobsBeyondHistory, mostRecentScheduleTime, parseSchedule } from './cronjobs-model';

function cronJob(spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly', namespace: 'default', uid: 'cj-uid', creationTimestamp: '2026-12-06T00:00:00Z' },
    spec: { schedule: '*/5 * * * *', jobTemplate: { metadata: { labels: { team: 'a' } }, spec: { backoffLimit: 1 } }, ...spec },
    status,
  };
}

const schedule = (pattern: string, tz?: string) => {
  const cron = parseSchedule(pattern, tz);
  if ('error' in cron) throw new Error(cron.error);
  return cron;
};

describe('CronJob schedules', () => {
  it('takes five fields or a descriptor and refuses anything else', () => {
    expect('error' in parseSchedule('*/5 * * * *')).toBe(false);
    expect('error' in parseSchedule('@hourly')).toBe(false);
    expect(parseSchedule('0 */5 * * * *')).toEqual({ error: 'expected exactly 5 fields, found 6: "0 */5 * * * *"' });
    expect('error' in parseSchedule('61 * * * *')).toBe(true);
  });

  it('finds the latest schedule time since the last one, counts the missed ones, and the next', () => {
    const now = new Date('2026-12-06T00:17:30Z');
    expect(mostRecentScheduleTime(cronJob({}), schedule('*/5 * * * *'), now)).toEqual({
      scheduled: new Date('2026-12-06T00:15:00Z'),
      missed: 2,
      next: new Date('2026-12-06T00:20:00Z'),
    });
    expect(mostRecentScheduleTime(cronJob({}, { lastScheduleTime: '2026-12-06T00:15:00Z' }), schedule('*/5 * * * *'), now).scheduled).toBeNull();
    // startingDeadlineSeconds bounds how far back it looks.
    expect(mostRecentScheduleTime(cronJob({ startingDeadlineSeconds: 60 }), schedule('*/5 * * * *'), now).scheduled).toBeNull();
    // Day of month and day of week are ORed, and the time zone is the CronJob's.
    expect(schedule('0 0 13 * 5').nextRun(new Date('2026-12-06T00:00:00Z'))).toEqual(new Date('2026-12-11T00:00:00Z'));
    expect(schedule('0 9 * * *', 'Europe/Berlin').nextRun(new Date('2026-12-06T00:00:00Z'))).toEqual(new Date('2026-12-06T08:00:00Z'));
  });

  it('names the Job after the schedule time in minutes and copies the template', () => {
    const job = jobFor(cronJob({}), new Date('2026-12-06T00:15:00Z'));
    expect(job.metadata).toMatchObject({
      name: `nightly-${Date.parse('2026-12-06T00:15:00Z') / 60_000}`,
      labels: { team: 'a' },
      annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2026-12-06T00:15:00Z' },
      ownerReferences: [{ kind: 'CronJob', name: 'nightly', uid: 'cj-uid', controller: true }],
    });
    expect(job.spec).toEqual({ backoffLimit: 1 });
  });

  it('trims finished Jobs beyond the history limits, oldest first, never running ones', () => {
    const job = (name: string, start: string, condition?: 'Complete' | 'Failed'): KubeObject => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      status: { startTime: start, ...(condition ? { conditions: [{ type: condition, status: 'True' }] } : {}) },
    });
    const jobs = [
      job('ok-1', '2026-12-06T00:01:00Z', 'Complete'),
      job('ok-3', '2026-12-06T00:03:00Z', 'Complete'),
      job('ok-2', '2026-12-06T00:02:00Z', 'Complete'),
      job('bad-1', '2026-12-06T00:01:30Z', 'Failed'),
      job('bad-2', '2026-12-06T00:02:30Z', 'Failed'),
      job('running', '2026-12-06T00:00:30Z'),
    ];
    expect(jobsBeyondHistory(cronJob({ successfulJobsHistoryLimit: 1 }), jobs).map((j) => j.metadata.name)).toEqual(['ok-1', 'ok-2', 'bad-1']);
  });
});
