import { createHash, randomBytes } from 'node:crypto';
import { conflict, notFound } from '../errors';
import type { CloudContext, ClusterRow } from './context';

export interface IssuedCredentials {
  server: string;
  /** The TLS server name that picks this cluster on the shared listener (kubeconfig `tls-server-name`). */
  tlsServerName: string;
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

  async issue(cluster: string, ttlSeconds: number, found: ClusterRow | null): Promise<IssuedCredentials> {
    if (!found) throw notFound(`cluster ${cluster} does not exist`);
    if (found.phase === 'deleting') throw conflict(`cluster ${cluster} is being deleted`);
    const token = `sim_${randomBytes(32).toString('base64url')}`;
    const { rows } = await this.cloud.db.pool.query<{ phase: string; expires_at: Date | null }>(
      `WITH owner AS (SELECT name, phase FROM simulator.clusters WHERE name = $2 FOR UPDATE),
       issued AS (
         INSERT INTO simulator.credentials (token_sha256, cluster, expires_at)
         SELECT $1, owner.name, now() + $3::integer * interval '1 second' FROM owner WHERE owner.phase <> 'deleting'
         RETURNING expires_at)
       SELECT owner.phase, (SELECT expires_at FROM issued) FROM owner`,
      [sha256(token), cluster, ttlSeconds],
    );
    const locked = rows[0];
    if (!locked) throw notFound(`cluster ${cluster} does not exist`);
    if (!locked.expires_at) throw conflict(`cluster ${cluster} is being deleted`);
    return {
      server: this.cloud.kubeUrl,
      tlsServerName: `${cluster}.${this.cloud.kubeDomain}`,
      caCertificate: this.cloud.caCertificatePem,
      token,
      expiresAt: locked.expires_at.toISOString(),
    };
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
