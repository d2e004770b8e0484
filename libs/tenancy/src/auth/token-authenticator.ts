import { UnauthenticatedError } from '@capstan/domain';
import { Clock, Prisma, PrismaService, Sql } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { hashSecret, sameHash, tokenKindOf } from '../tokens/token-secret';
import type { CustomerCaller, StaffCaller } from './caller';

/** `last_used_at` is kept to the minute: a write per request would double the cost of every read. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface CustomerTokenRow {
  id: string;
  organization_id: string;
  secret_hash: string;
  scopes: ('read' | 'write')[];
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  status: 'active' | 'suspended';
  suspended_reason: string | null;
}

/** A customer token by the hash of its secret, with its organisation's status, in one round trip. */
export function customerTokenQuery(secretHash: string): Prisma.Sql {
  return Prisma.sql`SELECT t.id, t.organization_id, t.secret_hash, t.scopes::text[] AS scopes, t.expires_at, t.last_used_at, t.revoked_at, o.status::text AS status, o.suspended_reason
    FROM api_tokens t JOIN organizations o ON o.id = t.organization_id WHERE t.secret_hash = ${secretHash}`;
}

/** Checks presented API token secrets against their stored hashes. */
@Injectable()
export class TokenAuthenticator {
  constructor(
    private readonly prisma: PrismaService,
    private readonly sql: Sql,
    private readonly clock: Clock,
  ) {}

  async customer(secret: string): Promise<CustomerCaller> {
    if (tokenKindOf(secret) !== 'customer') throw new UnauthenticatedError('the bearer token is not a Capstan API token');
    const hash = hashSecret(secret);
    // The hottest statement of the API (every customer request): one round trip with the
    // organisation's status joined, on plain pg (see Sql for why not Prisma).
    const [token] = await this.sql.rows<CustomerTokenRow>(customerTokenQuery(hash));
    if (!token || !sameHash(token.secret_hash, hash)) throw new UnauthenticatedError('the API token is not valid');
    this.assertUsable({ revokedAt: token.revoked_at, expiresAt: token.expires_at });
    this.touch('apiToken', token.id, token.last_used_at);
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
    const token = await this.prisma.staffApiToken.findUnique({ where: { secretHash: hash }, include: { staffUser: true } });
    if (!token || !sameHash(token.secretHash, hash)) throw new UnauthenticatedError('the staff token is not valid');
    this.assertUsable(token);
    if (token.staffUser.disabledAt) throw new UnauthenticatedError('the staff user is disabled');
    this.touch('staffApiToken', token.id, token.lastUsedAt);
    return { kind: 'staff', staffUserId: token.staffUserId, role: token.staffUser.role, via: 'token', tokenId: token.id };
  }

  private assertUsable(token: { revokedAt: Date | null; expiresAt: Date | null }): void {
    if (token.revokedAt) throw new UnauthenticatedError('the token has been revoked');
    if (token.expiresAt && token.expiresAt <= this.clock.now()) throw new UnauthenticatedError('the token has expired');
  }

  private touch(model: 'apiToken' | 'staffApiToken', id: string, lastUsedAt: Date | null): void {
    const now = this.clock.now();
    if (lastUsedAt && now.getTime() - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    // Not awaited: recording use must not slow down or fail the request it belongs to.
    const update = model === 'apiToken'
      ? this.sql.execute(Prisma.sql`UPDATE api_tokens SET last_used_at = ${now} WHERE id = ${id}`)
      : this.prisma.staffApiToken.update({ where: { id }, data: { lastUsedAt: now } });
    update.catch(() => undefined);
  }
}
