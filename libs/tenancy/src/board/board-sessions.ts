import { DomainError, ForbiddenError } from '@capstan/domain';
import { AuthConfig, Clock, Database, RedisConnections } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createHash, randomBytes } from 'node:crypto';
import { AuditLog } from '../audit/audit-log';
import { actorOf, roleAtLeast, type StaffCaller, type StaffRole } from '../auth/caller';
import { TokenAuthenticator } from '../auth/token-authenticator';
import { FailedAuthLimiter } from '../rate-limit/failed-auth-limiter';

/** The cookie's name and the only path browsers send it to (docs/observability.md, "Queue board"). */
export const BOARD_COOKIE = 'capstan_board';
export const BOARD_PATH = '/admin/queues';

const SESSION_SHAPE = /^cbs_[A-Za-z0-9_-]{43}$/;

interface StoredSession {
  staffUserId: string;
  expiresAt: string;
}

/** Who opened the board; the role is read afresh on every request, never kept in the session. */
export interface BoardStaff {
  staffUserId: string;
  role: StaffRole;
}

/** The board retries, promotes and removes jobs: operators and admins only. */
export const BOARD_ROLE: StaffRole = 'operator';

/**
 * Staff sessions for the queue board: a random secret in an HttpOnly cookie, its SHA-256 the Redis
 * key (a leaked Redis dump opens no board). Sessions are short-lived and disposable: Redis losing
 * them signs staff out, nothing else; Postgres keeps only the audit events of their opening and
 * closing. The expiry is checked against the clock as well as by Redis's TTL, so a session never
 * outlives what its cookie promised.
 */
@Injectable()
export class BoardSessions {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(
    redis: RedisConnections,
    private readonly config: AuthConfig,
    private readonly clock: Clock,
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly tokens: TokenAuthenticator,
    private readonly failures: FailedAuthLimiter,
  ) {
    this.redis = redis.open('board-sessions');
    this.prefix = `${redis.prefix}:board-session:`;
  }

  get ttlSeconds(): number {
    return this.config.boardSessionTtlSeconds;
  }

  async open(staff: StaffCaller): Promise<{ secret: string; expiresAt: Date }> {
    const secret = `cbs_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(this.clock.now().getTime() + this.ttlSeconds * 1000);
    const session: StoredSession = { staffUserId: staff.staffUserId, expiresAt: expiresAt.toISOString() };
    await this.redis.set(this.key(secret), JSON.stringify(session), 'PX', this.ttlSeconds * 1000);
    await this.audit.record(this.db, {
      organizationId: null,
      actor: actorOf(staff),
      action: 'board_session.open',
      target: { type: 'staff_user', id: staff.staffUserId },
      changes: { expires_at: { after: expiresAt.toISOString() } },
    });
    return { secret, expiresAt };
  }

  /**
   * The browser sign-in (the board's form): a staff API token, checked as the bearer guard checks
   * it, failures counted per address like every failed authentication (AUTH_FAILURES_PER_MINUTE).
   */
  async openWithStaffToken(token: string, sourceIp: string): Promise<{ secret: string; expiresAt: Date }> {
    let staff: StaffCaller;
    try {
      staff = await this.tokens.staff(token.trim());
    } catch (error) {
      if (!(error instanceof DomainError && error.kind === 'unauthenticated')) throw error;
      throw (await this.failures.failureFrom(sourceIp)) ?? error;
    }
    if (!roleAtLeast(staff.role, BOARD_ROLE))
      throw new ForbiddenError('insufficient-role', `the queue board needs the ${BOARD_ROLE} role; you have ${staff.role}`);
    return this.open(staff);
  }

  /**
   * The staff member a cookie's session belongs to, or undefined: no cookie, a malformed or unknown
   * one, an expired session, or a staff user since disabled or demoted below the board's role (read
   * on every request, one primary-key lookup: a session never outlasts the person's access).
   */
  async caller(secret: string | undefined): Promise<BoardStaff | undefined> {
    if (!secret || !SESSION_SHAPE.test(secret)) return undefined;
    const stored = await this.redis.get(this.key(secret));
    if (!stored) return undefined;
    const session = JSON.parse(stored) as StoredSession;
    if (new Date(session.expiresAt) <= this.clock.now()) return undefined;
    const user = await this.db.selectFrom('staff_users').select(['role', 'disabled_at']).where('id', '=', session.staffUserId).executeTakeFirst();
    if (!user || user.disabled_at || !roleAtLeast(user.role, BOARD_ROLE)) return undefined;
    return { staffUserId: session.staffUserId, role: user.role };
  }

  /** Signs out: the session stops working at once, whatever its cookie's Max-Age. */
  async close(secret: string | undefined): Promise<void> {
    const staff = await this.caller(secret);
    if (!staff || !secret) return;
    await this.redis.del(this.key(secret));
    await this.audit.record(this.db, {
      organizationId: null,
      actor: { type: 'staff_user', id: staff.staffUserId },
      action: 'board_session.close',
      target: { type: 'staff_user', id: staff.staffUserId },
    });
  }

  private key(secret: string): string {
    return this.prefix + createHash('sha256').update(secret).digest('hex');
  }
}
