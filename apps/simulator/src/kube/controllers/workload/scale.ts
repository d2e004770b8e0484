import { applyPatch, type Operation } from 'fast-json-patch';
import type { SubresourceRegistration, SubresourceRequest, SubresourceResponse } from '../../subresources';
import { KubeApiError, type KubeObject } from '../../types';
import { jsonPatchFailed } from '../../object-rules';
import { replicasOf, selectorOf } from './model';
import type { LabelSelector } from './selectors';

/**
 * The `scale` subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets and StatefulSets:
 * what `kubectl scale` and the HorizontalPodAutoscaler read and write. GET answers the Scale;
 * PUT and PATCH (merge or JSON patch of the Scale) set `spec.replicas`, nothing else.
 */
const KINDS = { deployments: 'Deployment', replicasets: 'ReplicaSet', statefulsets: 'StatefulSet' } as const;

export const scaleSubresources: SubresourceRegistration[] = (Object.keys(KINDS) as (keyof typeof KINDS)[]).map((resource) => ({
  group: 'apps',
  resource,
  subresource: 'scale',
  handle: (request: SubresourceRequest) => scale(request, KINDS[resource]),
}));

interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; resourceVersion?: string };
  spec?: { replicas?: unknown };
}

async function scale(request: SubresourceRequest, kind: string): Promise<SubresourceResponse> {
  const ref = { apiVersion: 'apps/v1', kind, namespace: request.namespace!, name: request.name };
  const target = await request.server.get(ref);
  const resource = `${kind.toLowerCase()}s.apps`;
  if (!target)
    throw new KubeApiError(404, 'NotFound', `${resource} "${request.name}" not found`, { name: request.name, group: 'apps', kind: `${kind.toLowerCase()}s` });
  if (request.verb === 'get') return { body: scaleOf(target) };

  const wanted = request.verb === 'patch' ? patched(scaleOf(target), request.body) : (request.body as Scale | null);
  if (!wanted || typeof wanted !== 'object') throw new KubeApiError(400, 'BadRequest', 'the body of the request must be an autoscaling/v1 Scale');
  const replicas = wanted.spec?.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new KubeApiError(
      422,
      'Invalid',
      `Scale.autoscaling "${request.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`,
      {
        name: request.name,
        group: 'autoscaling',
        kind: 'Scale',
        causes: [
          {
            reason: 'FieldValueInvalid',
            message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`,
            field: 'spec.replicas',
          },
        ],
      },
    );
  }
  const resourceVersion = wanted.metadata?.resourceVersion;
  // Recorded as the writer's `Update` through subresource `scale`, owning .spec.replicas, as upstream.
  const updated = await request.server.update(
    { ...target, metadata: { ...target.metadata, ...(resourceVersion ? { resourceVersion } : {}) }, spec: { ...target.spec, replicas } },
    { fieldManager: request.fieldManager, subresource: 'scale' },
  );
  return { body: scaleOf(updated) };
}

function patched(current: Scale, body: unknown): Scale {
  if (Array.isArray(body)) {
    try {
      return applyPatch(structuredClone(current), body as Operation[], true, false).newDocument;
    } catch (error) {
      throw jsonPatchFailed(error);
    }
  }
  if (!body || typeof body !== 'object') throw new KubeApiError(400, 'BadRequest', 'the patch must be a JSON object or a JSON patch array');
  const patch = body as Scale;
  return { ...current, metadata: { ...current.metadata, ...patch.metadata }, spec: { ...current.spec, ...patch.spec } };
}

export function scaleOf(target: KubeObject): Scale & { status: { replicas: number; selector?: string } } {
  const selector = selectorString(selectorOf(target));
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: target.metadata.name,
      namespace: target.metadata.namespace,
      uid: target.metadata.uid,
      resourceVersion: target.metadata.resourceVersion,
      creationTimestamp: target.metadata.creationTimestamp,
    } as Scale['metadata'],
    spec: { replicas: replicasOf(target) },
    status: { replicas: (target.status?.['replicas'] as number | undefined) ?? 0, ...(selector ? { selector } : {}) },
  };
}

/** A LabelSelector in the string form Scale.status.selector carries (`app=web,tier in (a,b)`). */
export function selectorString(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions ?? []) {
    if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
    else parts.push(`${r.key} ${r.operator === 'In' ? 'in' : 'notin'} (${(r.values ?? []).join(',')})`);
  }
  return parts.join(',');
}
