import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SimulatorDatabase } from '../database';

/**
 * Bearer tokens of the emulated Container API. Google's OAuth stays out of it: a caller either
 * presents the configured static token (SIMULATOR_API_TOKEN, as for the simulator's JSON API) or a
 * short-lived token the emulator's own token endpoint issued, kept hashed like every credential.
 */
export class GkeTokens {
  private readonly staticDigest: Buffer | null;

  constructor(
    private readonly db: SimulatorDatabase,
    staticToken: string | undefined,
  ) {
    this.staticDigest = staticToken ? digest(staticToken) : null;
  }

  /** Whether `secret` is what the token endpoint wants; any caller when no static token is configured (in-process tests). */
  acceptsClientSecret(secret: string | undefined): boolean {
    if (!this.staticDigest) return true;
    return secret !== undefined && timingSafeEqual(digest(secret), this.staticDigest);
  }

  async issue(ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    const token = `ya29.sim-${randomBytes(32).toString('base64url')}`;
    const [row] = await this.db.query<{ expires_at: Date }>(
      `INSERT INTO simulator.gke_tokens (token_sha256, expires_at) VALUES ($1, now() + $2::integer * interval '1 second') RETURNING expires_at`,
      [digest(token).toString('hex'), ttlSeconds],
    );
    return { token, expiresAt: row!.expires_at };
  }

  async verify(token: string): Promise<boolean> {
    if (this.staticDigest && timingSafeEqual(digest(token), this.staticDigest)) return true;
    const rows = await this.db.query(`SELECT 1 FROM simulator.gke_tokens WHERE token_sha256 = $1 AND expires_at > now()`, [digest(token).toString('hex')]);
    return rows.length > 0;
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest();
