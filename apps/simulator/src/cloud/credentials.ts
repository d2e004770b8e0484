import { createHash, randomBytes } from 'node:crypto';
import { conflict } from '../errors';
import { type CloudContext, lockCluster } from './context';

export interface IssuedCredentials {
  server: string;
  caCertificate: string;
  token: string;
  expiresAt: string;
}

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Bearer tokens for the simulated API servers. Only their SHA-256 is stored, and a token is found
 * by its hash, so no comparison of secrets happens in our code at all.
 */
export class Credentials {
  constructor(private readonly cloud: CloudContext) {}

  async issue(cluster: string, ttlSeconds: number): Promise<IssuedCredentials> {
    const token = `sim_${randomBytes(32).toString('base64url')}`;
    return this.cloud.db.transaction(async (sql) => {
      const owner = await lockCluster(sql, cluster);
      if (owner.phase === 'deleting') throw conflict(`cluster ${cluster} is being deleted`);
      const { rows } = await sql.query<{ expires_at: Date }>(
        `INSERT INTO simulator.credentials (token_sha256, cluster, expires_at)
         VALUES ($1, $2, now() + $3::integer * interval '1 second') RETURNING expires_at`,
        [sha256(token), cluster, ttlSeconds],
      );
      return {
        server: `${this.cloud.kubeUrl}/clusters/${cluster}`,
        caCertificate: this.cloud.caCertificatePem,
        token,
        expiresAt: rows[0]!.expires_at.toISOString(),
      };
    });
  }

  /** Invalidates every token issued so far for the cluster; later ones are valid again. */
  async revokeAll(cluster: string): Promise<void> {
    await this.cloud.db.query(`UPDATE simulator.credentials SET revoked_at = now() WHERE cluster = $1 AND revoked_at IS NULL`, [cluster]);
  }

  async authenticate(cluster: string, token: string): Promise<boolean> {
    const rows = await this.cloud.db.query(
      `SELECT 1 FROM simulator.credentials WHERE token_sha256 = $1 AND cluster = $2 AND revoked_at IS NULL AND expires_at > now()`,
      [sha256(token), cluster],
    );
    return rows.length === 1;
  }
}
