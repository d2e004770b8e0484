import { UnauthenticatedError } from '@capstan/domain';
import { Clock, CompiledOnce, Database, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { hashSecret, sameHash, tokenKindOf } from '../tokens/token-secret';
import type { CustomerCaller, StaffCaller, TokenScope } from './caller';

/** `last_used_at` is kept to the minute: a write per request would double the cost of every read. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * A customer token by the hash of its secret, with its organisation's status, in one round trip.
 * Scopes come back as text[]: pg parses no array of an enum type it does not know.
 */
export function customerTokenQuery(db: UnitOfWork, secretHash: string) {
  return db
    .selectFrom('api_tokens as t')
    .innerJoin('organizations as o', 'o.id', 't.organization_id')
    .select([
      't.id',
      't.organization_id',
      't.secret_hash',
      sql<TokenScope[]>`t.scopes::text[]`.as('scopes'),
      't.expires_at',
      't.last_used_at',
      't.revoked_at',
      'o.status',
      'o.suspended_reason',
    ])
    .where('t.secret_hash', '=', secretHash);
}

/** The hottest statement of the API (every customer request), built and compiled once. */
const customerToken = new CompiledOnce((db, p: { secretHash: string }) => customerTokenQuery(db, p.secretHash));

/** Checks presented API token secrets against their stored hashes. */
@Injectable()
export class TokenAuthenticator {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async customer(secret: string): Promise<CustomerCaller> {
    if (tokenKindOf(secret) !== 'customer') throw new UnauthenticatedError('the bearer token is not a Capstan API token');
    const hash = hashSecret(secret);
    // The hottest statement of the API (every customer request): one round trip with the
    // organisation's status joined.
    const token = await customerToken.executeTakeFirst(this.db, { secretHash: hash });
    if (!token || !sameHash(token.secret_hash, hash)) throw new UnauthenticatedError('the API token is not valid');
    this.assertUsable({ revokedAt: token.revoked_at, expiresAt: token.expires_at });
    this.touch('api_tokens', token.id, token.last_used_at);
    return {
      kind: 'customer',
      organizationId: token.organization_id,
      tokenId: token.id,
      scopes: token.scopes,
      organizationStatus: token.status,
      suspendedReason: token.suspended_reason,
    };
  }

  async staff(secret: string): Promise<StaffCaller> {
    if (tokenKindOf(secret) !== 'staff') throw new UnauthenticatedError('the bearer token is not a Capstan staff token');
    const hash = hashSecret(secret);
    const token = await this.db
      .selectFrom('staff_api_tokens as t')
      .innerJoin('staff_users as u', 'u.id', 't.staff_user_id')
      .select(['t.id', 't.staff_user_id', 't.secret_hash', 't.expires_at', 't.last_used_at', 't.revoked_at', 'u.role', 'u.disabled_at'])
      .where('t.secret_hash', '=', hash)
      .executeTakeFirst();
    if (!token || !sameHash(token.secret_hash, hash)) throw new UnauthenticatedError('the staff token is not valid');
    this.assertUsable({ revokedAt: token.revoked_at, expiresAt: token.expires_at });
    if (token.disabled_at) throw new UnauthenticatedError('the staff user is disabled');
    this.touch('staff_api_tokens', token.id, token.last_used_at);
    return { kind: 'staff', staffUserId: token.staff_user_id, role: token.role, via: 'token', tokenId: token.id };
  }

  private assertUsable(token: { revokedAt: Date | null; expiresAt: Date | null }): void {
    if (token.revokedAt) throw new UnauthenticatedError('the token has been revoked');
    if (token.expiresAt && token.expiresAt <= this.clock.now()) throw new UnauthenticatedError('the token has expired');
  }

  private touch(table: 'api_tokens' | 'staff_api_tokens', id: string, lastUsedAt: Date | null): void {
    const now = this.clock.now();
    if (lastUsedAt && now.getTime() - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    // Not awaited: recording use must not slow down or fail the request it belongs to.
    this.db
      .updateTable(table)
      .set({ last_used_at: now })
      .where('id', '=', id)
      .execute()
      .catch(() => undefined);
  }
}
