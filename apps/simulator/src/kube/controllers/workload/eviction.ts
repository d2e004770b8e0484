import type { SubresourceRegistration, SubresourceRequest, SubresourceResponse } from '../../subresources';
import { KubeApiError, type KubeObject } from '../../types';
import { decideEviction } from './disruption';
import { PDB, POD } from './model';
import { decodeEviction, fromProtobuf, isKubeProtobuf } from './protobuf';

/**
 * `POST /api/v1/namespaces/{ns}/pods/{name}/eviction` with a policy/v1 Eviction: the API-initiated
 * eviction `kubectl drain` uses. The pod's PodDisruptionBudget decides (see disruption.ts); an
 * allowed eviction first takes one disruption from the budget's status (under optimistic
 * concurrency, so two evictions racing cannot both spend the last one), then deletes the pod.
 */
export const evictionSubresource: SubresourceRegistration = {
  group: '',
  resource: 'pods',
  subresource: 'eviction',
  handle: evict,
};

interface Eviction {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  deleteOptions?: { preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: string[] } | null;
}

const ATTEMPTS = 5;

async function evict(request: SubresourceRequest): Promise<SubresourceResponse> {
  if (request.verb !== 'create') throw new KubeApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  const eviction = parseEviction(request);
  const namespace = request.namespace!;
  const dryRun = request.query.getAll('dryRun').includes('All') || (eviction.deleteOptions?.dryRun ?? []).includes('All');

  for (let attempt = 1; ; attempt++) {
    const pod = await request.server.get({ ...POD, namespace, name: request.name });
    if (!pod) throw new KubeApiError(404, 'NotFound', `pods "${request.name}" not found`, { name: request.name, kind: 'pods' });
    checkPreconditions(pod, eviction);
    const budgets = await request.server.list(PDB.apiVersion, PDB.kind, { namespace });
    const verdict = decideEviction(pod, budgets, new Date());
    if (!verdict.allow) {
      if (verdict.code === 500) throw new KubeApiError(500, 'InternalError', verdict.message);
      throw new KubeApiError(429, 'TooManyRequests', verdict.message, {
        causes: [{ reason: 'DisruptionBudget', message: verdict.cause }],
        retryAfterSeconds: verdict.retryAfterSeconds,
      });
    }
    if (verdict.decrement && !dryRun) {
      try {
        await request.server.updateStatus({ ...verdict.budget, status: verdict.status });
      } catch (error) {
        if (error instanceof KubeApiError && error.code === 409 && attempt < ATTEMPTS) continue;
        throw error;
      }
    }
    if (!dryRun) {
      try {
        await request.server.delete({ ...POD, namespace, name: request.name });
      } catch (error) {
        // Deleted meanwhile: what the eviction wanted.
        if (!(error instanceof KubeApiError && error.code === 404)) throw error;
      }
    }
    return { status: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
  }
}

function parseEviction(request: SubresourceRequest): Eviction {
  const body = isKubeProtobuf(request.body) ? fromProtobuf(request.body, decodeEviction) : request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new KubeApiError(400, 'BadRequest', 'the body of the request must be a policy/v1 Eviction object');
  const eviction = body as Eviction;
  if (eviction.kind !== undefined && eviction.kind !== 'Eviction') throw new KubeApiError(400, 'BadRequest', `kind ${String(eviction.kind)} is not Eviction`);
  if (eviction.apiVersion !== undefined && eviction.apiVersion !== 'policy/v1' && eviction.apiVersion !== 'policy/v1beta1') {
    throw new KubeApiError(400, 'BadRequest', `unsupported Eviction apiVersion ${String(eviction.apiVersion)}: use policy/v1`);
  }
  if (eviction.metadata?.name !== undefined && eviction.metadata.name !== request.name) {
    throw new KubeApiError(400, 'BadRequest', 'name in URL does not match name in Eviction object');
  }
  if (eviction.metadata?.namespace !== undefined && eviction.metadata.namespace !== request.namespace) {
    throw new KubeApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
  }
  return eviction;
}

function checkPreconditions(pod: KubeObject, eviction: Eviction): void {
  const preconditions = eviction.deleteOptions?.preconditions;
  if (preconditions?.uid && preconditions.uid !== pod.metadata.uid) {
    throw new KubeApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on pods "${pod.metadata.name}": Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${pod.metadata.uid}`,
    );
  }
  if (preconditions?.resourceVersion && preconditions.resourceVersion !== pod.metadata.resourceVersion) {
    throw new KubeApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on pods "${pod.metadata.name}": Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${pod.metadata.resourceVersion}`,
    );
  }
}
