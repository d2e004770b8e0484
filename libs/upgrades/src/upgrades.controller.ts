import { type RouteInput, upgradeRoutes as routes } from '@capstan/contracts';
import { Endpoint, Input } from '@capstan/platform';
import { actorOf, CurrentCustomer, type CustomerCaller } from '@capstan/tenancy';
import { Controller, Headers } from '@nestjs/common';
import { ListClusterUpgrades } from './use-cases/list-cluster-upgrades';
import { PlanClusterUpgrade } from './use-cases/plan-cluster-upgrade';
import { RollbackUpgrade } from './use-cases/rollback-upgrade';
import { StartUpgrade } from './use-cases/start-upgrade';

/** One line per route: auth and input from the route contract, then one use case. */
@Controller()
export class UpgradesController {
  constructor(
    private readonly listUpgrades: ListClusterUpgrades,
    private readonly planUpgrade: PlanClusterUpgrade,
    private readonly startUpgrade: StartUpgrade,
    private readonly rollbackUpgrade: RollbackUpgrade,
  ) {}

  @Endpoint(routes.listClusterUpgrades)
  list(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.listClusterUpgrades>) {
    return this.listUpgrades.execute(caller.organizationId, params.cluster_id);
  }

  @Endpoint(routes.getUpgradePlan)
  plan(@CurrentCustomer() caller: CustomerCaller, @Input() { params, query }: RouteInput<typeof routes.getUpgradePlan>) {
    return this.planUpgrade.execute(caller.organizationId, params.cluster_id, query);
  }

  @Endpoint(routes.startClusterUpgrade)
  start(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params, body }: RouteInput<typeof routes.startClusterUpgrade>,
    @Headers('idempotency-key') key?: string,
  ) {
    return this.startUpgrade.execute({ organizationId: caller.organizationId, actor: actorOf(caller), idempotencyKey: key }, params.cluster_id, body);
  }

  @Endpoint(routes.rollbackUpgrade)
  rollback(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params }: RouteInput<typeof routes.rollbackUpgrade>,
    @Headers('idempotency-key') key?: string,
  ) {
    return this.rollbackUpgrade.execute({ organizationId: caller.organizationId, actor: actorOf(caller), idempotencyKey: key }, params.operation_id);
  }
}
