import { type RouteInput, simulatorRoutes as routes } from '@capstan/contracts';
import { ConflictError, NotFoundError } from '@capstan/domain';
import { Database, Endpoint, Input } from '@capstan/platform';
import { ClusterProvider, externalClusterName, SimulatedProvider, type SimulatorFault } from '@capstan/providers';
import { actorOf, AuditLog, CurrentStaff, type StaffCaller } from '@capstan/tenancy';
import { Controller } from '@nestjs/common';
import { ClustersRepository } from './clusters.repository';

/**
 * Staff fault injection into the simulated provider: the way to demo (and test) failed steps,
 * slow providers and API-server outages without a real cloud. Every action is audited.
 */
@Controller()
export class SimulatorController {
  constructor(
    private readonly provider: ClusterProvider,
    private readonly db: Database,
    private readonly clusters: ClustersRepository,
    private readonly audit: AuditLog,
  ) {}

  @Endpoint(routes.injectFault)
  async inject(@CurrentStaff() staff: StaffCaller, @Input() { body }: RouteInput<typeof routes.injectFault>) {
    const cluster = body.cluster_id ? await this.cluster(body.cluster_id) : undefined;
    const fault = await this.simulator().injectFault({
      call: body.call,
      cluster: cluster && externalClusterName(cluster.id),
      mode: body.mode,
      delayMs: body.delay_ms,
      retryable: body.retryable,
    });
    await this.audited(staff, cluster?.organizationId ?? null, 'simulator.fault.inject', { type: 'simulator_fault', id: fault.id }, body.reason, {
      call: { after: body.call },
      mode: { after: body.mode },
    });
    return present(fault);
  }

  @Endpoint(routes.listFaults)
  async list() {
    return { items: (await this.simulator().listFaults()).map(present) };
  }

  @Endpoint(routes.clearFaults)
  async clear(@CurrentStaff() staff: StaffCaller) {
    await this.simulator().clearFaults();
    await this.audited(staff, null, 'simulator.fault.clear', { type: 'simulator_fault', id: '*' }, null, {});
  }

  @Endpoint(routes.setApiServer)
  async setApiServer(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.setApiServer>) {
    const cluster = await this.cluster(params.cluster_id);
    await this.simulator().setApiServer(externalClusterName(cluster.id), body.state === 'up');
    await this.audited(staff, cluster.organizationId, `simulator.api_server.${body.state}`, { type: 'cluster', id: cluster.id }, body.reason, {
      api_server: { after: body.state },
    });
    return { cluster_id: cluster.id, api_server: body.state };
  }

  private simulator(): SimulatedProvider {
    if (!(this.provider instanceof SimulatedProvider))
      throw new ConflictError('not-simulated', `fault injection needs PROVIDER=simulated; this Capstan runs ${this.provider.kind}`);
    return this.provider;
  }

  private async cluster(id: string) {
    this.simulator();
    const cluster = await this.clusters.findLive(id);
    if (!cluster) throw new NotFoundError('cluster', id);
    return { id: cluster.id, organizationId: cluster.organization_id };
  }

  private async audited(
    staff: StaffCaller,
    organizationId: string | null,
    action: string,
    target: { type: string; id: string },
    reason: string | null,
    changes: Record<string, { after: unknown }>,
  ) {
    await this.audit.record(this.db, { organizationId, actor: actorOf(staff), action, target, reason, changes });
  }
}

function present(fault: SimulatorFault) {
  return { id: fault.id, match: fault.match, mode: fault.mode, delay_ms: fault.delayMs ?? null, retryable: fault.retryable, hits: fault.hits };
}
