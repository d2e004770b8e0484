import { NotFoundError, UnprocessableError } from '@capstan/domain';
import { AuthConfig, Clock, Database, decodeCursor, newId, type Page, PrismaService, toPage } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import type { Actor, TokenScope } from '../auth/caller';
import { AuditLog } from '../audit/audit-log';
import { issueSecret } from './token-secret';

type TokenRow = Awaited<ReturnType<PrismaService['apiToken']['findFirstOrThrow']>>;

export interface TokenView {
  id: string;
  name: string;
  display_prefix: string;
  scopes: TokenScope[];
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

export interface NewToken {
  name: string;
  scopes: TokenScope[];
  expiresInSeconds?: number;
}

/** An organisation's API tokens. The secret exists in clear only in the answer to a create. */
@Injectable()
export class TokensService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly database: Database,
    private readonly auth: AuthConfig,
  ) {}

  async list(organizationId: string, limit: number, cursor?: string): Promise<Page<TokenView>> {
    const after = decodeCursor(cursor);
    const rows = await this.prisma.apiToken.findMany({
      where: { organizationId, revokedAt: null, ...(after ? { id: { gt: after } } : {}) },
      orderBy: { id: 'asc' },
      take: limit + 1,
    });
    return toPage(rows, limit, present);
  }

  async create(actor: Actor, organizationId: string, input: NewToken, reason?: string): Promise<TokenView & { secret: string }> {
    await this.assertTokenQuota(organizationId);
    const issued = issueSecret('customer');
    const token = await this.prisma.$transaction(async (tx) => {
      const org = await tx.organization.findUnique({ where: { id: organizationId }, select: { id: true } });
      if (!org) throw new NotFoundError('organization', organizationId);
      const created = await tx.apiToken.create({
        data: {
          id: newId('tok'),
          organizationId,
          name: input.name,
          displayPrefix: issued.displayPrefix,
          secretHash: issued.secretHash,
          scopes: input.scopes,
          expiresAt: input.expiresInSeconds ? new Date(this.clock.now().getTime() + input.expiresInSeconds * 1000) : null,
          createdBy: `${actor.type}:${actor.id}`,
        },
      });
      await this.audit.record(tx, {
        organizationId,
        actor,
        action: 'token.create',
        target: { type: 'api_token', id: created.id },
        changes: { name: { after: created.name }, scopes: { after: created.scopes }, expires_at: { after: created.expiresAt?.toISOString() ?? null } },
        reason,
      });
      return created;
    });
    return { ...present(token), secret: issued.secret };
  }

  /**
   * TOKENS_PER_ORGANIZATION live tokens at most: each token has its own rate limit, so unlimited
   * tokens would be an unlimited rate. Counted before the insert, not under a lock: concurrent
   * creates may overshoot by their number, which the cap's purpose tolerates.
   */
  private async assertTokenQuota(organizationId: string): Promise<void> {
    const { live } = await this.database
      .selectFrom('api_tokens')
      .select((eb) => eb.fn.countAll<bigint>().as('live'))
      .where('organization_id', '=', organizationId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', this.clock.now())]))
      .executeTakeFirstOrThrow();
    const max = this.auth.tokensPerOrganization;
    if (Number(live) >= max) {
      throw new UnprocessableError('token-quota-exceeded', `the organisation already has ${max} live API tokens, its maximum; revoke one first`, { max_tokens: max });
    }
  }

  async revoke(actor: Actor, organizationId: string, tokenId: string): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const revoked = await tx.apiToken.updateMany({
        where: { id: tokenId, organizationId, revokedAt: null },
        data: { revokedAt: this.clock.now() },
      });
      if (revoked.count === 0) throw new NotFoundError('api token', tokenId);
      await this.audit.record(tx, { organizationId, actor, action: 'token.revoke', target: { type: 'api_token', id: tokenId } });
    });
  }
}

function present(token: TokenRow): TokenView {
  return {
    id: token.id,
    name: token.name,
    display_prefix: token.displayPrefix,
    scopes: token.scopes,
    expires_at: token.expiresAt?.toISOString() ?? null,
    last_used_at: token.lastUsedAt?.toISOString() ?? null,
    created_at: token.createdAt.toISOString(),
  };
}
