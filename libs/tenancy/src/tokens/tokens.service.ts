import { NotFoundError, UnprocessableError } from '@capstan/domain';
import { AuthConfig, Clock, Database, type DB, decodeCursor, newId, type Page, toPage } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { type Selectable, sql, type Transaction } from 'kysely';
import type { Actor, TokenScope } from '../auth/caller';
import { AuditLog } from '../audit/audit-log';
import { issueSecret } from './token-secret';

/** What a token's answer shows; scopes as text[] (pg parses no array of an enum it does not know). */
const TOKEN_COLUMNS = ['id', 'name', 'display_prefix', sql<TokenScope[]>`scopes::text[]`.as('scopes'), 'expires_at', 'last_used_at', 'created_at'] as const;

type TokenRow = Pick<Selectable<DB['api_tokens']>, 'id' | 'name' | 'display_prefix' | 'scopes' | 'expires_at' | 'last_used_at' | 'created_at'>;

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
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly auth: AuthConfig,
  ) {}

  async list(organizationId: string, limit: number, cursor?: string): Promise<Page<TokenView>> {
    const after = decodeCursor(cursor, 'tok');
    let query = this.db.selectFrom('api_tokens').select(TOKEN_COLUMNS).where('organization_id', '=', organizationId).where('revoked_at', 'is', null);
    if (after) query = query.where('id', '>', after);
    const rows: TokenRow[] = await query
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, present);
  }

  async create(actor: Actor, organizationId: string, input: NewToken, reason?: string): Promise<TokenView & { secret: string }> {
    const issued = issueSecret('customer');
    const token = await this.db.transaction().execute(async (trx) => {
      // The organisation's row lock makes the token quota exact under concurrent creates (NO KEY
      // UPDATE, like lockOrganization: it must not wait on the key-share locks of inserts).
      const org = await trx.selectFrom('organizations').select('id').where('id', '=', organizationId).forNoKeyUpdate().executeTakeFirst();
      if (!org) throw new NotFoundError('organization', organizationId);
      await this.assertTokenQuota(trx, organizationId);
      const created: TokenRow = await trx
        .insertInto('api_tokens')
        .values({
          id: newId('tok'),
          organization_id: organizationId,
          name: input.name,
          display_prefix: issued.displayPrefix,
          secret_hash: issued.secretHash,
          scopes: sql<TokenScope[]>`${input.scopes}::"TokenScope"[]`,
          expires_at: input.expiresInSeconds ? new Date(this.clock.now().getTime() + input.expiresInSeconds * 1000) : null,
          created_by: `${actor.type}:${actor.id}`,
        })
        .returning(TOKEN_COLUMNS)
        .executeTakeFirstOrThrow();
      await this.audit.record(trx, {
        organizationId,
        actor,
        action: 'token.create',
        target: { type: 'api_token', id: created.id },
        changes: { name: { after: created.name }, scopes: { after: created.scopes }, expires_at: { after: created.expires_at?.toISOString() ?? null } },
        reason,
      });
      return created;
    });
    return { ...present(token), secret: issued.secret };
  }

  /**
   * TOKENS_PER_ORGANIZATION live tokens at most: each token has its own rate limit, so unlimited
   * tokens would be an unlimited rate. Counted under the organisation's row lock, so concurrent
   * creates cannot overshoot.
   */
  private async assertTokenQuota(trx: Transaction<DB>, organizationId: string): Promise<void> {
    const { live } = await trx
      .selectFrom('api_tokens')
      .select((eb) => eb.fn.countAll<bigint>().as('live'))
      .where('organization_id', '=', organizationId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', this.clock.now())]))
      .executeTakeFirstOrThrow();
    const max = this.auth.tokensPerOrganization;
    if (Number(live) >= max) {
      throw new UnprocessableError('token-quota-exceeded', `the organisation already has ${max} live API tokens, its maximum; revoke one first`, {
        max_tokens: max,
      });
    }
  }

  async revoke(actor: Actor, organizationId: string, tokenId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const revoked = await trx
        .updateTable('api_tokens')
        .set({ revoked_at: this.clock.now() })
        .where('id', '=', tokenId)
        .where('organization_id', '=', organizationId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (revoked.numUpdatedRows === 0n) throw new NotFoundError('api token', tokenId);
      await this.audit.record(trx, { organizationId, actor, action: 'token.revoke', target: { type: 'api_token', id: tokenId } });
    });
  }
}

function present(token: TokenRow): TokenView {
  return {
    id: token.id,
    name: token.name,
    display_prefix: token.display_prefix,
    scopes: token.scopes,
    expires_at: token.expires_at?.toISOString() ?? null,
    last_used_at: token.last_used_at?.toISOString() ?? null,
    created_at: token.created_at.toISOString(),
  };
}
