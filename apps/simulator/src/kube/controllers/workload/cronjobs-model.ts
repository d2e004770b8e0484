import { Cron } from 'croner';
import type { KubeObject } from '../../types';
import { isJobFinished } from './jobs-model';
import { conditionOf, controllerReference, timestamp } from './model';

/**
 * The CronJob controller's decisions (kube-controller-manager 1.32), pure; cronjobs.ts reads and
 * writes. Schedules are standard five-field cron (minute hour day-of-month month day-of-week,
 * day-of-month and day-of-week ORed when both are restricted) or a descriptor (`@hourly`, ...),
 * read in `spec.timeZone` (UTC without one, as kube-controller-manager runs).
 */

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** The schedule, or the reason it cannot be parsed (what the UnparseableSchedule event says). */
export function parseSchedule(schedule: string, timeZone?: string): Cron | { error: string } {
  const pattern = DESCRIPTORS[schedule.trim()] ?? schedule.trim();
  if (pattern.split(/\s+/).length !== 5) return { error: `expected exactly 5 fields, found ${pattern.split(/\s+/).filter(Boolean).length}: "${schedule}"` };
  try {
    return new Cron(pattern, { paused: true, timezone: timeZone || 'UTC', domAndDow: false });
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * The latest schedule time after the CronJob's last one (or its creation) and not after `now`, how
 * many were missed before it, and the next one after `now`. `startingDeadlineSeconds` bounds how
 * far back it looks, as upstream.
 */
export function mostRecentScheduleTime(cronJob: KubeObject, cron: Cron, now: Date): { scheduled: Date | null; missed: number; next: Date | null } {
  const status = (cronJob.status ?? {}) as { lastScheduleTime?: string };
  let earliest = Date.parse(status.lastScheduleTime ?? cronJob.metadata.creationTimestamp ?? now.toISOString());
  const deadline = cronJob.spec?.['startingDeadlineSeconds'];
  if (typeof deadline === 'number') earliest = Math.max(earliest, now.getTime() - deadline * 1000);
  let scheduled: Date | null = null;
  let missed = 0;
  let cursor = cron.nextRun(new Date(earliest));
  // Walking minute by minute is bounded: upstream too gives up counting past 100 misses.
  for (let steps = 0; cursor && cursor.getTime() <= now.getTime() && steps < 10_000; steps++) {
    if (scheduled) missed++;
    scheduled = cursor;
    cursor = cron.nextRun(cursor);
  }
  if (cursor && cursor.getTime() <= now.getTime()) {
    // Too many to walk: the latest one before now is what matters.
    scheduled = cron.previousRuns(1, now)[0] ?? scheduled;
  }
  return { scheduled, missed, next: cron.nextRun(now) };
}

/** `<cronjob>-<minutes since the epoch of the schedule time>`, so one schedule time makes one Job. */
export function jobNameFor(cronJob: KubeObject, scheduled: Date): string {
  return `${cronJob.metadata.name}-${Math.floor(scheduled.getTime() / 60_000)}`;
}

interface JobTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

/** The Job a CronJob starts for a schedule time. */
export function jobFor(cronJob: KubeObject, scheduled: Date): KubeObject {
  const template = (cronJob.spec?.['jobTemplate'] as JobTemplate | undefined) ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cronJob, scheduled),
      namespace: cronJob.metadata.namespace,
      labels: { ...template.metadata?.labels },
      annotations: { ...template.metadata?.annotations, [SCHEDULED_TIMESTAMP_ANNOTATION]: timestamp(scheduled) },
      ownerReferences: [controllerReference(cronJob)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}

/** An entry of `status.active`. */
export function jobReference(job: KubeObject): Record<string, unknown> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: job.metadata.name,
    namespace: job.metadata.namespace,
    uid: job.metadata.uid,
    resourceVersion: job.metadata.resourceVersion,
  };
}

const succeeded = (job: KubeObject) => conditionOf(job, 'Complete')?.status === 'True';

/** Finished Jobs beyond `successfulJobsHistoryLimit` (3) and `failedJobsHistoryLimit` (1), oldest first. */
export function jobsBeyondHistory(cronJob: KubeObject, jobs: readonly KubeObject[]): KubeObject[] {
  const limit = (key: string, fallback: number) => (typeof cronJob.spec?.[key] === 'number' ? (cronJob.spec[key] as number) : fallback);
  const started = (job: KubeObject) => (job.status?.['startTime'] as string | undefined) ?? job.metadata.creationTimestamp ?? '';
  const oldestFirst = (list: KubeObject[]) => list.sort((a, b) => started(a).localeCompare(started(b)));
  const done = jobs.filter(isJobFinished);
  const ok = oldestFirst(done.filter(succeeded));
  const bad = oldestFirst(done.filter((job) => !succeeded(job)));
  return [
    ...ok.slice(0, Math.max(0, ok.length - limit('successfulJobsHistoryLimit', 3))),
    ...bad.slice(0, Math.max(0, bad.length - limit('failedJobsHistoryLimit', 1))),
  ];
}
