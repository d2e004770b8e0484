import type { KubeEmulatorRuntime } from './emulator';
import { badRequest } from './object-rules';
import type { ApiServerInfo } from './types';

/**
 * The create-only "review" resources kube-apiserver answers without storing anything:
 * `kubectl auth whoami` (SelfSubjectReview), `kubectl auth can-i` (SelfSubjectAccessReview,
 * `--list`: SelfSubjectRulesReview), and TokenReview / SubjectAccessReview for webhooks.
 *
 * The emulator has no RBAC (every token it accepts is cluster-admin, apps/simulator/README.md),
 * so every access review is allowed, as it is for a member of `system:masters`.
 */
export const REVIEW_RESOURCES = new Set([
  'authentication.k8s.io/selfsubjectreviews',
  'authentication.k8s.io/tokenreviews',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authorization.k8s.io/subjectaccessreviews',
]);

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
}

/** The user a token subject stands for: a ServiceAccount's (`system:serviceaccount:<ns>:<name>#<uid>`) or an admin's. */
export function userOf(subject: string): UserInfo {
  const account = /^system:serviceaccount:([^:]+):([^#]+)(?:#(.+))?$/.exec(subject);
  if (account) {
    return {
      username: `system:serviceaccount:${account[1]}:${account[2]}`,
      ...(account[3] ? { uid: account[3] } : {}),
      groups: ['system:serviceaccounts', `system:serviceaccounts:${account[1]}`, 'system:authenticated'],
    };
  }
  return { username: subject, groups: ['system:masters', 'system:authenticated'] };
}

/**
 * The user a request acts as: the token's, or the one it impersonates (`kubectl --as`,
 * `--as-group`; every user here may impersonate, as cluster-admin may).
 */
export function requestUser(subject: string, headers: Record<string, string | string[] | undefined>): UserInfo {
  const as = headers['impersonate-user'];
  if (typeof as !== 'string' || !as) return userOf(subject);
  const raw = headers['impersonate-group'];
  const groups = (Array.isArray(raw) ? raw : raw ? raw.split(',') : []).map((g) => g.trim()).filter(Boolean);
  const base = userOf(as);
  const uid = headers['impersonate-uid'];
  return {
    username: base.username,
    ...(typeof uid === 'string' && uid ? { uid } : {}),
    groups: groups.length > 0 ? [...groups, 'system:authenticated'] : base.groups.filter((g) => g !== 'system:masters'),
  };
}

const ALLOWED_REASON = 'the emulated API server authorizes every authenticated user (no RBAC)';

export async function answerReview(
  emulator: KubeEmulatorRuntime,
  info: ApiServerInfo,
  resource: string,
  apiVersion: string,
  kind: string,
  body: Record<string, unknown>,
  user: UserInfo,
): Promise<unknown> {
  const spec = (body['spec'] ?? {}) as Record<string, unknown>;
  const metadata = { ...((body['metadata'] as Record<string, unknown> | undefined) ?? {}), creationTimestamp: null };
  const answer = (status: unknown, withSpec = true) => ({ kind, apiVersion, metadata, ...(withSpec ? { spec } : {}), status });
  switch (resource) {
    case 'selfsubjectreviews':
      return answer({ userInfo: user }, false);
    case 'tokenreviews': {
      if (typeof spec['token'] !== 'string' || !spec['token']) throw badRequest('spec.token: Required value');
      const reviewed = await emulator.authenticate(info.name, spec['token']);
      return answer(reviewed ? { authenticated: true, user: userOf(reviewed) } : { authenticated: false, error: 'invalid bearer token' });
    }
    case 'selfsubjectaccessreviews':
    case 'subjectaccessreviews':
      if (!spec['resourceAttributes'] && !spec['nonResourceAttributes'])
        throw badRequest('spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified');
      return answer({ allowed: true, reason: ALLOWED_REASON });
    case 'selfsubjectrulesreviews':
      // cluster-admin's rules, then those every authenticated user gets from kube-apiserver's
      // bootstrap roles (system:basic-user, system:discovery, system:public-info-viewer).
      return answer({
        resourceRules: [
          { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
          { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
          { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
        ],
        nonResourceRules: [
          { verbs: ['*'], nonResourceURLs: ['*'] },
          {
            verbs: ['get'],
            nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'],
          },
          { verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] },
        ],
        incomplete: false,
      });
    default:
      throw badRequest(`${resource} cannot be created here`);
  }
}
