import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import { jobFor, jobNameFor, jobReference, jobsBeyondHistory, mostRecentScheduleTime, parseSchedule } from './cronjobs-model';
import { recordEvent } from './events';
import { JOB } from './jobs';
import { isJobFinished } from './jobs-model';
import { isOwnedBy, isTerminating, refOf, replacing, sameJson, timestamp } from './model';
import { createIfAbsent, listOptions, racing, reconcileScope, wakeAfter } from './runtime';
import { KUBE_CONTROLLER_MANAGER } from './field-managers';

const CRON_JOB = { apiVersion: 'batch/v1', kind: 'CronJob' } as const;
const CONTROLLER = 'workload/cronjobs';

/**
 * The CronJob controller: at each schedule time (cronjobs-model.ts) it starts a Job
 * `<cronjob>-<minutes since the epoch>`, unless suspended, too late for
 * `startingDeadlineSeconds`, or forbidden by `concurrencyPolicy` (Forbid skips while a Job is
 * active, Replace deletes the active ones first); it keeps `status.active`,
 * `lastScheduleTime` and `lastSuccessfulTime`, and deletes finished Jobs beyond the history
 * limits. It wakes itself for the next schedule time, so an idle cluster with CronJobs costs one
 * run per schedule time. A Job made from it by hand (`kubectl create job --from=cronjob/x`) is
 * owned by it and shows among its active Jobs, as upstream ("UnexpectedJob").
 */
export const cronJobController: EmulatedController = {
  name: CONTROLLER,
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    const scope = reconcileScope(server, context, ['CronJob', 'Job'], CONTROLLER);
    if (!scope) return;
    const cronJobs = await server.list(CRON_JOB.apiVersion, CRON_JOB.kind, listOptions(scope));
    if (cronJobs.length === 0) return;
    const jobs = await server.list(JOB.apiVersion, JOB.kind, listOptions(scope));
    for (const cronJob of cronJobs) {
      if (isTerminating(cronJob)) continue;
      await syncCronJob(
        server,
        cronJob,
        jobs.filter((job) => isOwnedBy(job, cronJob)),
        context.now(),
      );
    }
  },
};

async function syncCronJob(server: ApiServerClient, cronJob: KubeObject, owned: KubeObject[], now: Date): Promise<void> {
  const spec = cronJob.spec ?? {};
  const previous = (cronJob.status ?? {}) as { active?: { uid?: string }[]; lastScheduleTime?: string; lastSuccessfulTime?: string };
  const record = (type: 'Normal' | 'Warning', reason: string, message: string) =>
    recordEvent(server, cronJob, { type, reason, message, component: 'cronjob-controller', action: '', now });
  let lastSuccessfulTime = previous.lastSuccessfulTime;
  let lastScheduleTime = previous.lastScheduleTime;
  const wasActive = new Set((previous.active ?? []).map((ref) => ref.uid));
  const live = owned.filter((job) => !isTerminating(job));
  for (const job of live) {
    if (!isJobFinished(job) && !wasActive.has(job.metadata.uid))
      await record('Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata.name}`);
    if (isJobFinished(job) && wasActive.has(job.metadata.uid)) {
      const complete = ((job.status?.['conditions'] as { type: string; status: string }[] | undefined) ?? []).some(
        (c) => c.type === 'Complete' && c.status === 'True',
      );
      await record('Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, condition: ${complete ? 'Complete' : 'Failed'}`);
      const completed = job.status?.['completionTime'] as string | undefined;
      if (complete && completed && (!lastSuccessfulTime || completed > lastSuccessfulTime)) lastSuccessfulTime = completed;
    }
  }
  let active = live.filter((job) => !isJobFinished(job));

  const cron = parseSchedule(String(spec['schedule'] ?? ''), spec['timeZone'] as string | undefined);
  if ('error' in cron) {
    await record('Warning', 'UnparseableSchedule', `unparseable schedule: "${String(spec['schedule'] ?? '')}" : ${cron.error}`);
  } else if (spec['suspend'] !== true) {
    const { scheduled, missed, next } = mostRecentScheduleTime(cronJob, cron, now);
    if (next) wakeAfter(CONTROLLER, server.name, next.getTime() - now.getTime());
    const deadline = spec['startingDeadlineSeconds'];
    const tooLate = scheduled && typeof deadline === 'number' && scheduled.getTime() + deadline * 1000 < now.getTime();
    if (scheduled && missed > 100)
      await record(
        'Warning',
        'TooManyMissedTimes',
        `too many missed start times: ${missed + 1}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
      );
    if (scheduled && tooLate) {
      await record('Warning', 'MissSchedule', `Missed scheduled time to start a job: ${timestamp(scheduled)}`);
    } else if (scheduled && !owned.some((job) => job.metadata.name === jobNameFor(cronJob, scheduled))) {
      const policy = (spec['concurrencyPolicy'] as string | undefined) ?? 'Allow';
      if (policy === 'Forbid' && active.length > 0) {
        // Skipped: upstream requeues and tries this schedule time again until it is too late.
        wakeAfter(CONTROLLER, server.name, 1_000);
      } else {
        if (policy === 'Replace') {
          for (const job of active) {
            await racing(() => server.delete(refOf(job), { propagationPolicy: 'Background' }));
            await record('Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
          }
          active = [];
        }
        const created = await createIfAbsent(server, jobFor(cronJob, scheduled));
        if (created) {
          await record('Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
          active.push(created);
        }
        lastScheduleTime = timestamp(scheduled);
      }
    }
  }

  for (const job of jobsBeyondHistory(cronJob, live)) {
    await racing(() => server.delete(refOf(job), { propagationPolicy: 'Background' }));
    await record('Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
  }

  const status: Record<string, unknown> = {};
  if (active.length) status['active'] = active.map(jobReference);
  if (lastScheduleTime) status['lastScheduleTime'] = lastScheduleTime;
  if (lastSuccessfulTime) status['lastSuccessfulTime'] = lastSuccessfulTime;
  const comparable = (s: Record<string, unknown>) => ({ ...s, active: ((s['active'] as { uid?: string }[] | undefined) ?? []).map((ref) => ref.uid) });
  if (!sameJson(comparable(cronJob.status ?? {}), comparable(status))) {
    await racing(() => server.mergePatch(refOf(cronJob), { status: replacing(cronJob.status, status) }, { ...KUBE_CONTROLLER_MANAGER, subresource: 'status' }));
  }
}
