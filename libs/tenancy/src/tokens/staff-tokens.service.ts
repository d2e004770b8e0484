import { ConflictError, NotFoundError } from '@capstan/domain';
import { Clock, Database, type DB } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import type { Transaction } from 'kysely';
import type { Actor } from '../auth/caller';
import { AuditLog } from '../audit/audit-log';
import { hashSecret } from './token-secret';

/** A staff token as revoked, with its staff user, so the owner can be told. */
export interface RevokedStaffTokenView {
  id: string;
  staff_user_id: string;
  name: string;
  display_prefix: string;
  last_used_at: string | null;
  revoked_at: string;
}

const REVOKED_COLUMNS = ['id', 'staff_user_id', 'name', 'display_prefix', 'last_used_at', 'revoked_at'] as const;

/**
 * Revoking staff tokens (`capstaff_...`), the way customer tokens are revoked (docs/staff.md,
 * "Revoking a leaked staff token"): by id, by an admin, never leaving every admin without a way
 * in; or by the leaked secret alone, by an operator or admin, always, since a leaked credential
 * that still works is worse than a lockout staff can mend.
 */
@Injectable()
export class StaffTokensService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async revoke(actor: Actor, tokenId: string, reason: string): Promise<RevokedStaffTokenView> {
    return this.db.transaction().execute(async (trx) => {
      // Every enabled admin's row, locked: two admins revoking each other's last tokens at once
      // check one after the other, so the second sees the first's revocation.
      await trx.selectFrom('staff_users').select('id').where('role', '=', 'admin').where('disabled_at', 'is', null).orderBy('id').forUpdate().execute();
      const revoked = await this.revokeWhere(trx, { id: tokenId });
      if (!revoked) throw new NotFoundError('staff token', tokenId);
      await this.assertAnAdminKeepsAWayIn(trx, revoked.id);
      return this.audited(trx, actor, revoked, reason);
    });
  }

  async revokeLeaked(actor: Actor, secret: string, reason: string): Promise<RevokedStaffTokenView> {
    return this.db.transaction().execute(async (trx) => {
      const revoked = await this.revokeWhere(trx, { secretHash: hashSecret(secret) });
      if (!revoked) throw new NotFoundError('staff token', `${secret.slice(0, 15)}...`, 'no staff token has this secret: Capstan never issued it');
      return this.audited(trx, actor, revoked, reason);
    });
  }

  /** The revoked row; undefined if no token matches, a 409 naming when if it was revoked already. */
  private async revokeWhere(trx: Transaction<DB>, token: { id: string } | { secretHash: string }) {
    let update = trx.updateTable('staff_api_tokens').set({ revoked_at: this.clock.now() }).where('revoked_at', 'is', null);
    update = 'id' in token ? update.where('id', '=', token.id) : update.where('secret_hash', '=', token.secretHash);
    const revoked = await update.returning(REVOKED_COLUMNS).executeTakeFirst();
    if (revoked) return revoked;
    let existing = trx.selectFrom('staff_api_tokens').select(['id', 'revoked_at']);
    existing = 'id' in token ? existing.where('id', '=', token.id) : existing.where('secret_hash', '=', token.secretHash);
    const found = await existing.executeTakeFirst();
    if (found?.revoked_at) {
      throw new ConflictError('token-already-revoked', `staff token ${found.id} was revoked already, at ${found.revoked_at.toISOString()}`, {
        token_id: found.id,
        revoked_at: found.revoked_at.toISOString(),
      });
    }
    return undefined;
  }

  /**
   * Refuses (409 `last-admin-credential`, rolled back) a revocation after which no enabled admin
   * could sign in: neither a live staff token nor an OIDC identity. Only admins manage staff
   * credentials, so that state could not be left through the API.
   */
  private async assertAnAdminKeepsAWayIn(trx: Transaction<DB>, tokenId: string): Promise<void> {
    const now = this.clock.now();
    const admin = await trx
      .selectFrom('staff_users as u')
      .select('u.id')
      .where('u.role', '=', 'admin')
      .where('u.disabled_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb('u.oidc_subject', 'is not', null),
          eb.exists(
            eb
              .selectFrom('staff_api_tokens as t')
              .select('t.id')
              .whereRef('t.staff_user_id', '=', 'u.id')
              .where('t.revoked_at', 'is', null)
              .where((inner) => inner.or([inner('t.expires_at', 'is', null), inner('t.expires_at', '>', now)])),
          ),
        ]),
      )
      .limit(1)
      .executeTakeFirst();
    if (!admin) {
      throw new ConflictError(
        'last-admin-credential',
        `revoking staff token ${tokenId} would leave no enabled admin a way to sign in (a live staff token or an OIDC identity); issue another admin credential first, or revoke it by its secret if it leaked`,
        { token_id: tokenId },
      );
    }
  }

  private async audited(
    trx: Transaction<DB>,
    actor: Actor,
    revoked: { id: string; staff_user_id: string; name: string; display_prefix: string; last_used_at: Date | null; revoked_at: Date | null },
    reason: string,
  ): Promise<RevokedStaffTokenView> {
    await this.audit.record(trx, {
      organizationId: null,
      actor,
      action: 'staff_token.revoke',
      target: { type: 'staff_api_token', id: revoked.id },
      changes: { revoked_at: { after: revoked.revoked_at!.toISOString() } },
      reason,
    });
    return {
      id: revoked.id,
      staff_user_id: revoked.staff_user_id,
      name: revoked.name,
      display_prefix: revoked.display_prefix,
      last_used_at: revoked.last_used_at?.toISOString() ?? null,
      revoked_at: revoked.revoked_at!.toISOString(),
    };
  }
}
