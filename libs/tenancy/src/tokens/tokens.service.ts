import { ConflictError, NotFoundError, UnprocessableError } from '@capstan/domain';
import { AuthConfig, Clock, Database, type DB, decodeCursor, newId, type Page, toPage } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { type Selectable, sql, type Transaction } from 'kysely';
import type { Actor, TokenScope } from '../auth/caller';
import { AuditLog } from '../audit/audit-log';
import { hashSecret, issueSecret } from './token-secret';

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

/** A token staff revoked, with the organisation to tell. */
export interface RevokedTokenView {
  id: string;
  organization_id: string;
  name: string;
  display_prefix: string;
  last_used_at: string | null;
  revoked_at: string;
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

  /** Staff's view of any organisation's tokens: an organisation that does not exist is a 404, not an empty page. */
  async listOfOrganization(organizationId: string, limit: number, cursor?: string): Promise<Page<TokenView>> {
    const org = await this.db.selectFrom('organizations').select('id').where('id', '=', organizationId).executeTakeFirst();
    if (!org) throw new NotFoundError('organization', organizationId);
    return this.list(organizationId, limit, cursor);
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

  /**
   * Revokes a live token of the organisation. A customer revoking one it no longer has is a 404,
   * as for any object it cannot see; staff (`reason` given) learn that it was revoked already, and
   * when, as a 409, since on-call staff revoking a leaked token need to know whether it already is.
   */
  async revoke(actor: Actor, organizationId: string, tokenId: string, reason?: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const revoked = await trx
        .updateTable('api_tokens')
        .set({ revoked_at: this.clock.now() })
        .where('id', '=', tokenId)
        .where('organization_id', '=', organizationId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (revoked.numUpdatedRows === 0n) {
        if (reason !== undefined) await this.assertRevokedAlready(trx, { id: tokenId, organizationId });
        throw new NotFoundError('api token', tokenId);
      }
      await this.audit.record(trx, { organizationId, actor, action: 'token.revoke', target: { type: 'api_token', id: tokenId }, reason });
    });
  }

  /**
   * Staff revoke a leaked secret without knowing whose it is: the token is found by the hash of
   * the secret, the way it authenticates. The secret itself is neither stored nor logged; the
   * audit event names the token and its organisation.
   */
  async revokeLeaked(actor: Actor, secret: string, reason: string): Promise<RevokedTokenView> {
    const secretHash = hashSecret(secret);
    return this.db.transaction().execute(async (trx) => {
      const revoked = await trx
        .updateTable('api_tokens')
        .set({ revoked_at: this.clock.now() })
        .where('secret_hash', '=', secretHash)
        .where('revoked_at', 'is', null)
        .returning(['id', 'organization_id', 'name', 'display_prefix', 'last_used_at', 'revoked_at'])
        .executeTakeFirst();
      if (!revoked) {
        await this.assertRevokedAlready(trx, { secretHash });
        throw new NotFoundError('api token', `${secret.slice(0, 10)}...`, 'no API token has this secret: Capstan never issued it');
      }
      await this.audit.record(trx, {
        organizationId: revoked.organization_id,
        actor,
        action: 'token.revoke',
        target: { type: 'api_token', id: revoked.id },
        changes: { revoked_at: { after: revoked.revoked_at!.toISOString() } },
        reason,
      });
      return {
        id: revoked.id,
        organization_id: revoked.organization_id,
        name: revoked.name,
        display_prefix: revoked.display_prefix,
        last_used_at: revoked.last_used_at?.toISOString() ?? null,
        revoked_at: revoked.revoked_at!.toISOString(),
      };
    });
  }

  /** A 409 naming when, if the token exists and was revoked before; returns if it does not exist. */
  private async assertRevokedAlready(trx: Transaction<DB>, token: { id: string; organizationId: string } | { secretHash: string }): Promise<void> {
    let query = trx.selectFrom('api_tokens').select(['id', 'revoked_at']);
    query =
      'secretHash' in token
        ? query.where('secret_hash', '=', token.secretHash)
        : query.where('id', '=', token.id).where('organization_id', '=', token.organizationId);
    const existing = await query.executeTakeFirst();
    if (existing?.revoked_at) {
      throw new ConflictError('token-already-revoked', `API token ${existing.id} was revoked already, at ${existing.revoked_at.toISOString()}`, {
        token_id: existing.id,
        revoked_at: existing.revoked_at.toISOString(),
      });
    }
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
