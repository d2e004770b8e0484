import { ConflictError } from '@capstan/domain';
import { ClusterProviders, externalClusterName } from '@capstan/providers';
import { Database } from '@capstan/platform';
import { AuditLog } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import type { Requester } from '../cluster-change';
import { ClustersRepository } from '../clusters.repository';
import { renderKubeconfig } from '../kubeconfig';

/** GET /v1/clusters/{id}/kubeconfig. */
@Injectable()
export class IssueKubeconfig {
  constructor(
    private readonly db: Database,
    private readonly clusters: ClustersRepository,
    private readonly audit: AuditLog,
    private readonly providers: ClusterProviders,
  ) {}

  /**
   * A kubeconfig with a fresh short-lived credential from the provider. Nothing is stored; the
   * download itself is audited (who, when, how long it is valid), never the token.
   */
  async execute(requester: Requester, id: string, expirySeconds: number): Promise<string> {
    const cluster = await this.clusters.get(requester.organizationId, id);
    if (!cluster.endpoint || !['running', 'updating', 'upgrading', 'degraded'].includes(cluster.status)) {
      throw new ConflictError('cluster-not-ready', `cluster ${id} is ${cluster.status}; a kubeconfig is available once its API server runs`);
    }
    const credentials = await this.providers.for(cluster.provider).issueCredentials(externalClusterName(id), expirySeconds);
    await this.audit.record(this.db, {
      organizationId: requester.organizationId,
      actor: requester.actor,
      action: 'cluster.kubeconfig',
      target: { type: 'cluster', id },
      changes: { credential_expires_at: { after: credentials.expiresAt.toISOString() } },
    });
    return renderKubeconfig(cluster.name, credentials);
  }
}
