import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import { recordEvent } from './events';
import { isJobFinished, JOB_TRACKING_FINALIZER, planJob } from './jobs-model';
import { controllerOf, controllerReference, isOwnedBy, isTerminating, POD, podPhase, refOf, sameJson, templateOf } from './model';
import { podFromTemplate } from './pods';
import { createIfAbsent, deleteIfPresent, listOptions, racing, reconcileScope, wakeAfter } from './runtime';
import { KUBE_CONTROLLER_MANAGER } from './field-managers';

export const JOB = { apiVersion: 'batch/v1', kind: 'Job' } as const;

/**
 * The Job controller: runs each unfinished Job's pods and keeps its status (jobs-model.ts decides).
 * Its pods carry the job-tracking finalizer until they are counted, and end on their own (the
 * kubelet finishes pods with restartPolicy Never/OnFailure after their run time; a template
 * annotation `simulator.capstan.io/exit-code` makes them fail). Finished Jobs are left alone, so
 * the Jobs helm-controller writes complete stay as they are.
 */
export const jobController: EmulatedController = {
  name: 'workload/jobs',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    const scope = reconcileScope(server, context, ['Job', 'Pod'], 'workload/jobs');
    if (!scope) return;
    const all = await server.list(JOB.apiVersion, JOB.kind, listOptions(scope));
    const running = all.filter((job) => !isTerminating(job) && !isJobFinished(job));
    const tracked = (pod: KubeObject) => !!pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER);
    // Without a running Job only tracked pods left behind matter: look for them on a sweep or when one changes.
    if (running.length === 0 && context.event && !(context.event.object.kind === 'Pod' && tracked(context.event.object))) return;
    const pods = await server.list(POD.apiVersion, POD.kind, running.length ? listOptions(scope) : { ...listOptions(scope), labelSelector: JOB_NAME_LABEL });
    for (const job of running)
      await syncJob(
        server,
        job,
        pods.filter((pod) => isOwnedBy(pod, job)),
        context.now(),
      );
    // The finalizer only holds pods of a running Job while they are counted: a pod being deleted
    // and the pods of a Job that finished, is being deleted or is gone are let go.
    const live = new Set(running.map((job) => job.metadata.uid));
    for (const pod of pods.filter(tracked)) {
      const owner = controllerOf(pod);
      const counting = owner && live.has(owner.uid) && ['Succeeded', 'Failed'].includes(podPhase(pod));
      if (counting || (owner && live.has(owner.uid) && !isTerminating(pod))) continue;
      await racing(() =>
        server.update({ ...pod, metadata: { ...pod.metadata, finalizers: pod.metadata.finalizers!.filter((f) => f !== JOB_TRACKING_FINALIZER) } }),
      );
    }
  },
};

const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

async function syncJob(server: ApiServerClient, job: KubeObject, pods: KubeObject[], now: Date): Promise<void> {
  const plan = planJob(job, pods, now);
  // Record the newly finished pods as uncounted before anything else, so a crash between steps never loses or doubles a count.
  if (!sameJson(job.status ?? {}, plan.status)) {
    const written = await racing(() => server.updateStatus({ ...job, status: plan.status as Record<string, unknown> }, KUBE_CONTROLLER_MANAGER));
    if (!written) return;
  }
  for (const pod of plan.release) {
    await racing(() =>
      server.update({ ...pod, metadata: { ...pod.metadata, finalizers: (pod.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER) } }),
    );
  }
  for (const pod of plan.remove) await deleteIfPresent(server, refOf(pod));
  const template = templateOf(job);
  for (let i = 0; i < Math.min(plan.create, 500); i++) {
    const pod = podFromTemplate({ template, namespace: job.metadata.namespace!, generateName: `${job.metadata.name}-`, owner: controllerReference(job) });
    pod.metadata.finalizers = [JOB_TRACKING_FINALIZER];
    const created = await createIfAbsent(server, pod);
    if (created)
      await recordEvent(server, job, {
        type: 'Normal',
        reason: 'SuccessfulCreate',
        message: `Created pod: ${created.metadata.name}`,
        component: 'job-controller',
        action: '',
        now,
      });
  }
  for (const event of plan.events) await recordEvent(server, job, { ...event, component: 'job-controller', action: '', now });
  // An activeDeadlineSeconds ends the Job even when nothing else happens.
  const deadline = job.spec?.['activeDeadlineSeconds'];
  if (typeof deadline === 'number' && plan.status.startTime)
    wakeAfter('workload/jobs', server.name, Date.parse(plan.status.startTime) + deadline * 1000 - now.getTime());
}
