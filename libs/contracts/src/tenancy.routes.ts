import { etag, idOf, noInputBody, page, paginationQuery, timestamp } from './common.schema';
import { ISO_3166_1_ALPHA_2 } from './countries';
import { defineRoute } from './route';
import { humanName, printableText } from './text.schema';
import { z } from './zod';

const residency = z
  .string()
  .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code')
  .openapi({ example: 'CH' });
/** On input, only codes assigned to a country: `XX` or `EU` name no law the data could stay under. */
const residencyInput = residency.refine((code) => ISO_3166_1_ALPHA_2.has(code), 'is not an assigned ISO 3166-1 alpha-2 country code');

export const quotaSchema = z.object({ max_clusters: z.number().int(), max_nodes: z.number().int() }).openapi('Quota');

export const organizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    display_name: z.string(),
    residency,
    plan: z.string(),
    status: z.enum(['active', 'suspended']),
    suspended_reason: z.string().nullable(),
    quota: quotaSchema,
    usage: z.object({ clusters: z.number().int(), nodes: z.number().int() }),
    etag,
    created_at: timestamp,
  })
  .openapi('Organization');

const scope = z.enum(['read', 'write']);

export const tokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    display_prefix: z.string().openapi({ description: 'The first characters of the secret' }),
    scopes: z.array(scope),
    expires_at: timestamp.nullable(),
    last_used_at: timestamp.nullable(),
    created_at: timestamp,
  })
  .openapi('ApiToken');

export const createdTokenSchema = tokenSchema
  .extend({ secret: z.string().openapi({ description: 'Shown once; store it now. Capstan keeps only its hash.' }) })
  .openapi('CreatedApiToken');

export const createTokenBody = z
  .object({
    name: humanName(100),
    scopes: z.array(scope).min(1).max(2).default(['read', 'write']),
    expires_in_seconds: z
      .number()
      .int()
      .min(60)
      .max(2 * 365 * 24 * 3600)
      .optional(),
  })
  .strict()
  .openapi('CreateApiTokenRequest');

export const auditEventSchema = z
  .object({
    id: z.string(),
    organization_id: z.string().nullable(),
    actor: z.object({ type: z.enum(['api_token', 'staff_user', 'staff_token', 'system']), id: z.string() }),
    action: z.string().openapi({ example: 'cluster.create' }),
    target: z.object({ type: z.string(), id: z.string() }),
    request_id: z.string().nullable(),
    source_ip: z.string().nullable(),
    changes: z.record(z.string(), z.object({ before: z.unknown().optional(), after: z.unknown().optional() })),
    reason: z.string().nullable(),
    created_at: timestamp,
  })
  .openapi('AuditEvent');

const auditQueryFields = {
  ...paginationQuery,
  action: z.string().max(100).optional(),
  target_id: z.string().max(64).optional(),
  actor_id: z
    .string()
    .max(100)
    .optional()
    .openapi({ description: 'Only events by this actor: an API token (tok_...), a staff user or token, or a system actor such as sla-monitor' }),
  since: timestamp.optional().openapi({ description: 'Only events at or after this instant (RFC 3339)' }),
  until: timestamp.optional().openapi({ description: 'Only events before this instant (RFC 3339)' }),
};

/** A time range must not end before it starts: an empty answer would read as "nothing happened". */
const orderedRange = (query: { since?: string; until?: string }) => !query.since || !query.until || Date.parse(query.since) < Date.parse(query.until);
const rangeMessage = { message: 'must be after since', path: ['until'] };

const auditQuery = z.object(auditQueryFields).strict().refine(orderedRange, rangeMessage);

// ------------------------------------------------------------------ customers

export const getOrganization = defineRoute({
  operationId: 'getOrganization',
  method: 'GET',
  path: '/v1/organization',
  summary: 'Your organisation, with its quotas and current usage',
  tags: ['Organization'],
  access: 'customer:read',
  responses: { 200: { description: 'The organisation', schema: organizationSchema } },
});

export const listTokens = defineRoute({
  operationId: 'listTokens',
  method: 'GET',
  path: '/v1/tokens',
  summary: "List your organisation's API tokens (never their secrets)",
  tags: ['Tokens'],
  access: 'customer:read',
  query: z.object(paginationQuery).strict(),
  responses: { 200: { description: 'A page of tokens', schema: page(tokenSchema, 'ApiTokenPage') } },
});

export const createToken = defineRoute({
  operationId: 'createToken',
  method: 'POST',
  path: '/v1/tokens',
  summary: 'Create an API token; its secret is shown once',
  tags: ['Tokens'],
  access: 'customer:write',
  body: createTokenBody,
  // Not idempotent on purpose: replaying the answer would mean keeping the secret to replay it.
  oneTimeSecret: true,
  responses: { 201: { description: 'The token and its secret', schema: createdTokenSchema } },
  errors: [409, 422],
});

export const revokeToken = defineRoute({
  operationId: 'revokeToken',
  method: 'DELETE',
  path: '/v1/tokens/{token_id}',
  summary: 'Revoke an API token; it answers 401 from now on',
  tags: ['Tokens'],
  access: 'customer:write',
  params: z.object({ token_id: idOf('tok') }).strict(),
  responses: { 204: { description: 'Revoked' } },
});

export const listAuditEvents = defineRoute({
  operationId: 'listAuditEvents',
  method: 'GET',
  path: '/v1/audit-events',
  summary: "Your organisation's audit log, newest first",
  tags: ['Audit'],
  access: 'customer:read',
  query: auditQuery,
  responses: { 200: { description: 'A page of audit events', schema: page(auditEventSchema, 'AuditEventPage') } },
});

// ------------------------------------------------------------------ staff

const reason = printableText(3, 500).openapi({ description: 'Why; kept in the audit log' });

export const createOrganizationBody = z
  .object({
    name: z
      .string()
      .min(2)
      .max(63)
      .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label'),
    display_name: printableText(1, 200),
    residency: residencyInput,
    plan: z.string().min(1).max(50).default('standard'),
    quota: z.object({ max_clusters: z.number().int().min(0).max(10_000), max_nodes: z.number().int().min(0).max(100_000) }).strict(),
  })
  .strict()
  .openapi('CreateOrganizationRequest');

const orgParams = z.object({ organization_id: idOf('org') }).strict();

export const adminCreateOrganization = defineRoute({
  operationId: 'adminCreateOrganization',
  method: 'POST',
  path: '/admin/v1/organizations',
  summary: 'Onboard a customer organisation',
  tags: ['Admin'],
  access: 'staff:operator',
  body: createOrganizationBody,
  idempotent: true,
  responses: {
    201: {
      description: 'The organisation',
      schema: organizationSchema,
      headers: { Location: 'The new organisation (/admin/v1/organizations/{organization_id})' },
    },
  },
  errors: [409],
});

export const adminListOrganizations = defineRoute({
  operationId: 'adminListOrganizations',
  method: 'GET',
  path: '/admin/v1/organizations',
  summary: 'List and search organisations',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z.object({ ...paginationQuery, q: z.string().max(100).optional(), status: z.enum(['active', 'suspended']).optional() }).strict(),
  responses: { 200: { description: 'A page of organisations', schema: page(organizationSchema, 'OrganizationPage') } },
});

export const adminGetOrganization = defineRoute({
  operationId: 'adminGetOrganization',
  method: 'GET',
  path: '/admin/v1/organizations/{organization_id}',
  summary: 'One organisation',
  tags: ['Admin'],
  access: 'staff:viewer',
  params: orgParams,
  responses: { 200: { description: 'The organisation', schema: organizationSchema } },
});

export const adminUpdateQuota = defineRoute({
  operationId: 'adminUpdateQuota',
  method: 'PATCH',
  path: '/admin/v1/organizations/{organization_id}/quota',
  summary: "Change an organisation's quotas",
  tags: ['Admin'],
  access: 'staff:operator',
  params: orgParams,
  conditional: true,
  body: z
    .object({ max_clusters: z.number().int().min(0).max(10_000).optional(), max_nodes: z.number().int().min(0).max(100_000).optional(), reason })
    .strict()
    .refine((body) => body.max_clusters !== undefined || body.max_nodes !== undefined, {
      message: 'give max_clusters, max_nodes or both',
      path: ['max_clusters'],
    })
    .openapi('UpdateQuotaRequest'),
  responses: { 200: { description: 'The organisation', schema: organizationSchema } },
  errors: [412],
});

export const adminSuspendOrganization = defineRoute({
  operationId: 'adminSuspendOrganization',
  method: 'POST',
  path: '/admin/v1/organizations/{organization_id}/suspend',
  summary: 'Suspend an organisation: its clusters stay up, its writes answer 403',
  tags: ['Admin'],
  access: 'staff:operator',
  params: orgParams,
  body: z.object({ reason }).strict().openapi('SuspendRequest'),
  responses: { 200: { description: 'The organisation', schema: organizationSchema } },
  errors: [409],
});

export const adminResumeOrganization = defineRoute({
  operationId: 'adminResumeOrganization',
  method: 'POST',
  path: '/admin/v1/organizations/{organization_id}/resume',
  summary: 'Resume a suspended organisation',
  tags: ['Admin'],
  access: 'staff:operator',
  params: orgParams,
  body: z.object({ reason }).strict().openapi('ResumeRequest'),
  responses: { 200: { description: 'The organisation', schema: organizationSchema } },
  errors: [409],
});

export const adminIssueToken = defineRoute({
  operationId: 'adminIssueToken',
  method: 'POST',
  path: '/admin/v1/organizations/{organization_id}/tokens',
  summary: "Issue an organisation's API token (e.g. its first); the secret is shown once",
  tags: ['Admin'],
  access: 'staff:operator',
  params: orgParams,
  body: createTokenBody.extend({ reason }).strict().openapi('AdminIssueTokenRequest'),
  oneTimeSecret: true,
  responses: { 201: { description: 'The token and its secret', schema: createdTokenSchema } },
});

const orgTokenParams = z.object({ organization_id: idOf('org'), token_id: idOf('tok') }).strict();

export const adminListTokens = defineRoute({
  operationId: 'adminListTokens',
  method: 'GET',
  path: '/admin/v1/organizations/{organization_id}/tokens',
  summary: "An organisation's live API tokens (never their secrets), with when each was last used",
  tags: ['Admin'],
  access: 'staff:viewer',
  params: orgParams,
  query: z.object(paginationQuery).strict(),
  responses: { 200: { description: 'A page of tokens', schema: page(tokenSchema, 'AdminApiTokenPage') } },
});

export const adminRevokeToken = defineRoute({
  operationId: 'adminRevokeToken',
  method: 'POST',
  path: '/admin/v1/organizations/{organization_id}/tokens/{token_id}/revoke',
  summary: "Revoke one of an organisation's API tokens; it answers 401 from now on (audited with the reason)",
  description: 'A token that is already revoked is a 409 `token-already-revoked` naming when; a token of another organisation is a 404.',
  tags: ['Admin'],
  access: 'staff:operator',
  params: orgTokenParams,
  body: z.object({ reason }).strict().openapi('AdminRevokeTokenRequest'),
  responses: { 204: { description: 'Revoked' } },
  errors: [409],
});

export const revokedTokenSchema = z
  .object({
    id: z.string(),
    organization_id: z.string(),
    name: z.string(),
    display_prefix: z.string(),
    last_used_at: timestamp.nullable().openapi({ description: 'When the token was last used (to the minute), before it was revoked' }),
    revoked_at: timestamp,
  })
  .openapi('RevokedApiToken');

export const adminRevokeLeakedToken = defineRoute({
  operationId: 'adminRevokeLeakedToken',
  method: 'POST',
  path: '/admin/v1/tokens/revoke',
  summary: 'Revoke a leaked customer API token by its secret, whichever organisation holds it (audited with the reason)',
  description:
    'For a secret found where it should not be (a public repository, a log): the token is found by the hash of the secret, as when it ' +
    'authenticates, and revoked; the answer names its organisation so the customer can be told. The secret is neither stored nor logged. ' +
    'A secret Capstan never issued is a 404; a token already revoked is a 409 `token-already-revoked`.',
  tags: ['Admin'],
  access: 'staff:operator',
  body: z
    .object({
      secret: z
        .string()
        .max(200)
        .regex(/^cap_[A-Za-z0-9_-]{43}$/, 'must be a customer API token secret (cap_ and 43 characters)')
        .openapi({ description: 'The leaked secret, cap_...' }),
      reason,
    })
    .strict()
    .openapi('AdminRevokeLeakedTokenRequest'),
  responses: { 200: { description: 'The revoked token and its organisation', schema: revokedTokenSchema } },
  errors: [404, 409],
});

export const revokedStaffTokenSchema = z
  .object({
    id: z.string(),
    staff_user_id: z.string().openapi({ description: 'The staff member whose token it was, to be told' }),
    name: z.string(),
    display_prefix: z.string(),
    last_used_at: timestamp.nullable().openapi({ description: 'When the token was last used (to the minute), before it was revoked' }),
    revoked_at: timestamp,
  })
  .openapi('RevokedStaffToken');

export const adminRevokeStaffToken = defineRoute({
  operationId: 'adminRevokeStaffToken',
  method: 'POST',
  path: '/admin/v1/staff-tokens/{staff_token_id}/revoke',
  summary: "Revoke a staff token (capstaff_...) by id, another staff member's or your own; it answers 401 from now on (audited with the reason)",
  description:
    'Admins only. The id is the actor id of the audit events the token wrote (stok_...). A revocation after which no enabled admin ' +
    'could sign in (no live staff token, no OIDC identity) is a 409 `last-admin-credential` and changes nothing; a token already ' +
    'revoked is a 409 `token-already-revoked`; an unknown id is a 404.',
  tags: ['Admin'],
  access: 'staff:admin',
  params: z.object({ staff_token_id: idOf('stok') }).strict(),
  body: z.object({ reason }).strict().openapi('AdminRevokeStaffTokenRequest'),
  responses: { 200: { description: 'The revoked token and its staff member', schema: revokedStaffTokenSchema } },
  errors: [404, 409],
});

export const adminRevokeLeakedStaffToken = defineRoute({
  operationId: 'adminRevokeLeakedStaffToken',
  method: 'POST',
  path: '/admin/v1/staff-tokens/revoke',
  summary: 'Revoke a leaked staff token by its secret alone (audited with the reason)',
  description:
    'Operators and admins. The token is found by the hash of the secret, as when it authenticates, and revoked, always: a leaked ' +
    "credential that still works is worse than an admin's lockout, which issuing a new admin credential mends. The secret is " +
    'neither stored nor logged. A secret Capstan never issued is a 404; a token already revoked is a 409 `token-already-revoked`.',
  tags: ['Admin'],
  access: 'staff:operator',
  body: z
    .object({
      secret: z
        .string()
        .max(200)
        .regex(/^capstaff_[A-Za-z0-9_-]{43}$/, 'must be a staff token secret (capstaff_ and 43 characters)')
        .openapi({ description: 'The leaked secret, capstaff_...' }),
      reason,
    })
    .strict()
    .openapi('AdminRevokeLeakedStaffTokenRequest'),
  responses: { 200: { description: 'The revoked token and its staff member', schema: revokedStaffTokenSchema } },
  errors: [404, 409],
});

export const adminListAuditEvents = defineRoute({
  operationId: 'adminListAuditEvents',
  method: 'GET',
  path: '/admin/v1/audit-events',
  summary: 'The audit log across all organisations, newest first',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z
    .object({ ...auditQueryFields, organization_id: idOf('org').optional() })
    .strict()
    .refine(orderedRange, rangeMessage),
  responses: { 200: { description: 'A page of audit events', schema: page(auditEventSchema, 'AdminAuditEventPage') } },
});

export const boardSessionSchema = z
  .object({
    expires_at: z.string().datetime().openapi({ description: 'When the session cookie stops opening the board' }),
    board_url: z.string().openapi({ example: '/admin/queues/' }),
  })
  .openapi('BoardSession');

export const adminCreateBoardSession = defineRoute({
  operationId: 'adminCreateBoardSession',
  method: 'POST',
  path: '/admin/v1/session',
  summary: 'Exchange a staff credential for a queue-board session cookie',
  description:
    'Browsers cannot send bearer tokens: this sets a short-lived HttpOnly, SameSite=Strict cookie (Secure over https) scoped to /admin/queues, ' +
    'the staff queue board. The cookie opens nothing else: /v1 and /admin/v1 want a bearer token as before. Audited.',
  tags: ['Admin'],
  access: 'staff:operator',
  body: noInputBody,
  // The cookie carries a secret: no cache may keep the answer.
  oneTimeSecret: true,
  responses: {
    201: {
      description: 'The session; its secret travels only in the cookie',
      schema: boardSessionSchema,
      headers: { 'Set-Cookie': 'capstan_board=...; Path=/admin/queues; Max-Age=...; HttpOnly; SameSite=Strict (and Secure over https)' },
    },
  },
});
