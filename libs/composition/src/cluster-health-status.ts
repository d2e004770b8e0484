import { RecordApiServerHealth } from '@capstan/clusters';
import { ClusterHealthStatus } from '@capstan/sla';
import { Injectable } from '@nestjs/common';

/**
 * libs/sla's port for the status its probes imply, answered by libs/clusters' public
 * `RecordApiServerHealth` (docs/architecture.md, "Feature-to-feature calls"). Composition only.
 */
@Injectable()
export class ClusterHealthFromProbes extends ClusterHealthStatus {
  constructor(private readonly health: RecordApiServerHealth) {
    super();
  }

  degraded(clusterId: string, reason: string, since: Date) {
    return this.health.degraded(clusterId, reason, since);
  }

  recovered(clusterId: string) {
    return this.health.recovered(clusterId);
  }

  markedDegraded() {
    return this.health.markedDegraded();
  }
}
