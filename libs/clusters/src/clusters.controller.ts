import { catalogueRoutes, clusterRoutes as routes, type RouteInput } from '@capstan/contracts';
import { listMachineTypes, listRegions } from '@capstan/domain';
import { Endpoint, Input, withLocation } from '@capstan/platform';
import { actorOf, CurrentCustomer, CurrentStaff, type CustomerCaller, OrganizationsService, type StaffCaller } from '@capstan/tenancy';
import { Controller, Headers, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Requester } from './cluster-change';
import { CreateCluster } from './use-cases/create-cluster';
import { CreateMaintenanceExclusion } from './use-cases/create-maintenance-exclusion';
import { CreateNodePool } from './use-cases/create-node-pool';
import { CreateVersion } from './use-cases/create-version';
import { DeleteCluster } from './use-cases/delete-cluster';
import { DeleteMaintenanceExclusion } from './use-cases/delete-maintenance-exclusion';
import { DeleteNodePool } from './use-cases/delete-node-pool';
import { IssueKubeconfig } from './use-cases/issue-kubeconfig';
import { ReadClusters } from './use-cases/read-clusters';
import { ReadMaintenanceExclusions } from './use-cases/read-maintenance-exclusions';
import { ReadVersions } from './use-cases/read-versions';
import { UpdateCluster } from './use-cases/update-cluster';
import { UpdateNodePool } from './use-cases/update-node-pool';
import { UpdateVersion } from './use-cases/update-version';

function requester(caller: CustomerCaller, idempotencyKey?: string): Requester {
  return { organizationId: caller.organizationId, actor: actorOf(caller), idempotencyKey };
}

/** One line per route: auth and input from the route contract, then one use case. */
@Controller()
export class ClustersController {
  constructor(
    private readonly clusters: ReadClusters,
    private readonly createCluster: CreateCluster,
    private readonly updateCluster: UpdateCluster,
    private readonly deleteCluster: DeleteCluster,
    private readonly issueKubeconfig: IssueKubeconfig,
    private readonly createPool: CreateNodePool,
    private readonly updatePool: UpdateNodePool,
    private readonly deletePool: DeleteNodePool,
    private readonly exclusions: ReadMaintenanceExclusions,
    private readonly createExclusion: CreateMaintenanceExclusion,
    private readonly deleteExclusion: DeleteMaintenanceExclusion,
  ) {}

  @Endpoint(routes.createCluster)
  async create(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { body }: RouteInput<typeof routes.createCluster>,
    @Headers('idempotency-key') key?: string,
  ) {
    const result = await this.createCluster.execute(requester(caller, key), body);
    return withLocation(result, `/v1/clusters/${result.cluster.id}`);
  }

  @Endpoint(routes.listClusters)
  list(@CurrentCustomer() caller: CustomerCaller, @Input() { query }: RouteInput<typeof routes.listClusters>) {
    return this.clusters.list(
      { organizationId: caller.organizationId, status: query.status, provider: query.provider, labelSelector: query.label_selector },
      query.limit,
      query.cursor,
    );
  }

  @Endpoint(routes.getCluster)
  get(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.getCluster>) {
    return this.clusters.get(caller.organizationId, params.cluster_id);
  }

  /** 200 with the cluster when the change is Capstan's alone; 202 with the cluster and the operation applying it at the provider. */
  @Endpoint(routes.updateCluster)
  async update(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params, body }: RouteInput<typeof routes.updateCluster>,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('if-match') ifMatch?: string,
    @Headers('idempotency-key') key?: string,
  ) {
    const { cluster, operation } = await this.updateCluster.execute(requester(caller, key), params.cluster_id, ifMatch, body);
    if (!operation) return cluster;
    void reply.status(202);
    return { cluster, operation };
  }

  @Endpoint(routes.deleteCluster)
  delete(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.deleteCluster>, @Headers('idempotency-key') key?: string) {
    return this.deleteCluster.execute(requester(caller, key), params.cluster_id);
  }

  @Endpoint(routes.getKubeconfig)
  async kubeconfig(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params, query }: RouteInput<typeof routes.getKubeconfig>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const yaml = await this.issueKubeconfig.execute(requester(caller), params.cluster_id, query.expiry_seconds);
    void reply.header('content-type', 'application/yaml').header('cache-control', 'no-store');
    return yaml;
  }

  @Endpoint(routes.listNodePools)
  listNodePools(@CurrentCustomer() caller: CustomerCaller, @Input() { params, query }: RouteInput<typeof routes.listNodePools>) {
    return this.clusters.listNodePools(caller.organizationId, params.cluster_id, query.limit, query.cursor);
  }

  @Endpoint(routes.createNodePool)
  async createNodePool(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params, body }: RouteInput<typeof routes.createNodePool>,
    @Headers('idempotency-key') key?: string,
  ) {
    const result = await this.createPool.execute(requester(caller, key), params.cluster_id, body);
    return withLocation(result, `/v1/clusters/${params.cluster_id}/node-pools/${result.node_pool.id}`);
  }

  @Endpoint(routes.getNodePool)
  getNodePool(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.getNodePool>) {
    return this.clusters.getNodePool(caller.organizationId, params.cluster_id, params.node_pool_id);
  }

  @Endpoint(routes.updateNodePool)
  updateNodePool(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params, body }: RouteInput<typeof routes.updateNodePool>,
    @Headers('if-match') ifMatch?: string,
    @Headers('idempotency-key') key?: string,
  ) {
    return this.updatePool.execute(requester(caller, key), params.cluster_id, params.node_pool_id, ifMatch, body);
  }

  @Endpoint(routes.deleteNodePool)
  deleteNodePool(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params }: RouteInput<typeof routes.deleteNodePool>,
    @Headers('idempotency-key') key?: string,
  ) {
    return this.deletePool.execute(requester(caller, key), params.cluster_id, params.node_pool_id);
  }

  @Endpoint(routes.listMaintenanceExclusions)
  listMaintenanceExclusions(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.listMaintenanceExclusions>) {
    return this.exclusions.list(caller.organizationId, params.cluster_id);
  }

  /** 201 with the exclusion on rke2 (Capstan's alone); 202 with the exclusion and the operation applying it on gke. */
  @Endpoint(routes.createMaintenanceExclusion)
  async createMaintenanceExclusion(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params, body }: RouteInput<typeof routes.createMaintenanceExclusion>,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') key?: string,
  ) {
    const { exclusion, operation } = await this.createExclusion.execute(requester(caller, key), params.cluster_id, body);
    const location = `/v1/clusters/${params.cluster_id}/maintenance-exclusions/${exclusion.id}`;
    if (!operation) return withLocation(exclusion, location);
    void reply.status(202);
    return withLocation({ maintenance_exclusion: exclusion, operation }, location);
  }

  @Endpoint(routes.getMaintenanceExclusion)
  getMaintenanceExclusion(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.getMaintenanceExclusion>) {
    return this.exclusions.get(caller.organizationId, params.cluster_id, params.exclusion_id);
  }

  /** 204 on rke2 (or for an exclusion that had ended); 202 with the operation taking it out of GKE's policy. */
  @Endpoint(routes.deleteMaintenanceExclusion)
  async deleteMaintenanceExclusion(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params }: RouteInput<typeof routes.deleteMaintenanceExclusion>,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') key?: string,
  ) {
    const { operation } = await this.deleteExclusion.execute(requester(caller, key), params.cluster_id, params.exclusion_id);
    if (!operation) {
      void reply.status(204);
      return undefined;
    }
    void reply.status(202);
    return { operation };
  }
}

@Controller()
export class CatalogueController {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly catalogue: ReadVersions,
  ) {}

  @Endpoint(catalogueRoutes.listRegions)
  async regions(@CurrentCustomer() caller: CustomerCaller, @Input() { query }: RouteInput<typeof catalogueRoutes.listRegions>) {
    const { residency } = await this.organizations.get(caller.organizationId);
    return {
      items: listRegions(query.provider).map((r) => ({
        id: r.id,
        provider: r.provider,
        country: r.country,
        display_name: r.displayName,
        allowed: r.country === residency,
      })),
    };
  }

  @Endpoint(catalogueRoutes.listVersions)
  versions(@Input() { query }: RouteInput<typeof catalogueRoutes.listVersions>) {
    return this.catalogue.list(query.provider);
  }

  @Endpoint(catalogueRoutes.listMachineTypes)
  machineTypes(@Input() { query }: RouteInput<typeof catalogueRoutes.listMachineTypes>) {
    return {
      items: listMachineTypes(query.provider).map((m) => ({
        id: m.id,
        provider: m.provider,
        vcpus: m.vcpus,
        memory_gib: m.memoryGiB,
        monthly_price_cents: m.monthlyPriceCents,
      })),
    };
  }
}

@Controller()
export class StaffClustersController {
  constructor(
    private readonly clusters: ReadClusters,
    private readonly createVersion: CreateVersion,
    private readonly updateVersion: UpdateVersion,
  ) {}

  @Endpoint(catalogueRoutes.adminCreateVersion)
  async addVersion(@CurrentStaff() staff: StaffCaller, @Input() { body }: RouteInput<typeof catalogueRoutes.adminCreateVersion>) {
    return withLocation(await this.createVersion.execute(actorOf(staff), body), `/admin/v1/versions/${body.provider}/${body.minor}`);
  }

  @Endpoint(catalogueRoutes.adminUpdateVersion)
  changeVersion(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof catalogueRoutes.adminUpdateVersion>) {
    return this.updateVersion.execute(actorOf(staff), params, body);
  }

  @Endpoint(routes.adminListClusters)
  list(@Input() { query }: RouteInput<typeof routes.adminListClusters>) {
    return this.clusters.listForStaff(
      { organizationId: query.organization_id, status: query.status, provider: query.provider, q: query.q, version: query.version, support: query.support },
      query.limit,
      query.cursor,
    );
  }
}
