import { RecordApiServerHealth } from '@capstan/clusters';
import { type ApiServerObservation, ClusterHealthStatus } from '@capstan/sla';
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

  observe(clusterId: string, observation: ApiServerObservation) {
    return this.health.observe(clusterId, observation);
  }

  watched() {
    return this.health.watched();
  }
}
