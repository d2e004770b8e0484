import type { SubresourceRegistration, SubresourceRequest, SubresourceResponse } from '../../subresources';
import {
  type ApiServerClient,
  type ApiServerInfo,
  type ControllerContext,
  type EmulatedController,
  KubeApiError,
  type KubeEmulator,
  type KubeObject,
} from '../../types';
import { POD, SERVICE_ACCOUNT, timestamp } from './model';

/**
 * TokenRequest (`POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token`,
 * authentication.k8s.io/v1): a bearer token for the ServiceAccount that this API server accepts
 * until it expires, or until the ServiceAccount is deleted (the token is bound to the account's
 * uid, so a new account of the same name does not inherit it). `kubectl create token` uses it,
 * and Capstan hands such tokens to customers.
 */

/** kube-apiserver's bounds on spec.expirationSeconds (TokenRequest validation). */
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const DEFAULT_EXPIRATION_SECONDS = 3600;
const BOUND_KINDS = new Set(['Pod', 'Secret', 'Node']);

/** The token subject of one ServiceAccount incarnation: its username, and its uid so a re-created account starts afresh. */
export function serviceAccountSubject(account: KubeObject): string {
  return `system:serviceaccount:${account.metadata.namespace}:${account.metadata.name}#${account.metadata.uid}`;
}

export function apiAudiences(info: Pick<ApiServerInfo, 'distribution' | 'name'>): string[] {
  return info.distribution === 'rke2' ? ['https://kubernetes.default.svc.cluster.local', 'rke2'] : ['https://kubernetes.default.svc.cluster.local'];
}

export const tokenRequestSubresource: SubresourceRegistration = {
  group: '',
  resource: 'serviceaccounts',
  subresource: 'token',
  handle: requestToken,
};

interface TokenRequestBody {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec?: { audiences?: unknown; expirationSeconds?: unknown; boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } | null };
}

async function requestToken(request: SubresourceRequest): Promise<SubresourceResponse> {
  if (request.verb !== 'create') throw new KubeApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  const body = (request.body ?? {}) as TokenRequestBody;
  if (typeof body !== 'object' || Array.isArray(body))
    throw new KubeApiError(400, 'BadRequest', 'the body of the request must be an authentication.k8s.io/v1 TokenRequest');
  if (body.kind !== undefined && body.kind !== 'TokenRequest') throw new KubeApiError(400, 'BadRequest', `kind ${String(body.kind)} is not TokenRequest`);
  const namespace = request.namespace!;
  const spec = body.spec ?? {};

  const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds))
    throw invalid(request.name, 'spec.expirationSeconds', String(expirationSeconds), 'must be an integer');
  if (expirationSeconds < MIN_EXPIRATION_SECONDS)
    throw invalid(request.name, 'spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes');
  if (expirationSeconds > MAX_EXPIRATION_SECONDS)
    throw invalid(request.name, 'spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds');
  const audiences = spec.audiences ?? apiAudiences(request.info);
  if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== 'string' || a === ''))
    throw invalid(request.name, 'spec.audiences', JSON.stringify(audiences), 'must be a list of non-empty strings');

  const account = await request.server.get({ ...SERVICE_ACCOUNT, namespace, name: request.name });
  if (!account) throw new KubeApiError(404, 'NotFound', `serviceaccounts "${request.name}" not found`, { name: request.name, kind: 'serviceaccounts' });
  const boundObjectRef = spec.boundObjectRef ? await boundObject(request.server, namespace, request.name, spec.boundObjectRef) : null;

  const { token, expiresAt } = await request.emulator.issueToken(request.info.name, { subject: serviceAccountSubject(account), ttlSeconds: expirationSeconds });
  return {
    status: 201,
    body: {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: request.name, namespace, creationTimestamp: null },
      spec: { audiences, expirationSeconds, boundObjectRef },
      status: { token, expirationTimestamp: timestamp(expiresAt ?? new Date(Date.now() + expirationSeconds * 1000)) },
    },
  };
}

async function boundObject(
  server: ApiServerClient,
  namespace: string,
  name: string,
  ref: NonNullable<NonNullable<TokenRequestBody['spec']>['boundObjectRef']>,
) {
  if (!ref.kind || !BOUND_KINDS.has(ref.kind)) throw invalid(name, 'spec.boundObjectRef.kind', String(ref.kind), 'supported values: "Node", "Pod", "Secret"');
  if (!ref.name) throw invalid(name, 'spec.boundObjectRef.name', '', 'Required value');
  const target = await server.get({ apiVersion: 'v1', kind: ref.kind, name: ref.name, ...(ref.kind === 'Node' ? {} : { namespace }) });
  const resource = `${ref.kind.toLowerCase()}s`;
  if (!target) throw new KubeApiError(404, 'NotFound', `${resource} "${ref.name}" not found`, { name: ref.name, kind: resource });
  if (ref.uid && ref.uid !== target.metadata.uid)
    throw new KubeApiError(
      409,
      'Conflict',
      `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
    );
  return { kind: ref.kind, apiVersion: ref.kind === POD.kind ? 'v1' : (ref.apiVersion ?? 'v1'), name: ref.name, uid: target.metadata.uid };
}

function invalid(name: string, field: string, value: unknown, message: string): KubeApiError {
  return new KubeApiError(
    422,
    'Invalid',
    `TokenRequest.authentication.k8s.io "${name}" is invalid: ${field}: Invalid value: ${JSON.stringify(value)}: ${message}`,
    {
      name,
      group: 'authentication.k8s.io',
      kind: 'TokenRequest',
      causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${message}`, field }],
    },
  );
}

/**
 * Revokes a ServiceAccount's tokens when it is deleted (the token controller's job). It listens
 * to the emulator's change feed itself rather than waiting for a reconcile: the runner keeps only
 * the latest of the events that arrive during a pass, and a deletion must not be among those lost.
 */
export function revokeTokensOfDeletedAccounts(emulator: KubeEmulator): () => void {
  return emulator.onChange((event) => {
    if (event.object.kind !== 'ServiceAccount' || event.type !== 'DELETED') return;
    const revoke = () => emulator.revokeTokens(event.server, serviceAccountSubject(event.object));
    // One retry for a passing database hiccup; every other simulator process revokes too.
    revoke()
      .catch(revoke)
      .catch(() => undefined);
  });
}

const listening = new WeakSet<KubeEmulator>();

/** Starts `revokeTokensOfDeletedAccounts` once per emulator, from the first reconcile it runs. */
export const serviceAccountTokenController: EmulatedController = {
  name: 'workload/serviceaccount-tokens',
  roles: ['workload'],
  reconcile(_server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    if (!listening.has(context.emulator)) {
      listening.add(context.emulator);
      revokeTokensOfDeletedAccounts(context.emulator);
    }
    return Promise.resolve();
  },
};
