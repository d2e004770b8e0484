import { addonRoutes as routes, type RouteInput } from '@capstan/contracts';
import { Endpoint, Input } from '@capstan/platform';
import { actorOf, CurrentCustomer, CurrentStaff, type CustomerCaller, type StaffCaller } from '@capstan/tenancy';
import { Controller, Headers } from '@nestjs/common';
import { AddonVersions } from './use-cases/addon-versions';
import { ClusterAddons } from './use-cases/cluster-addons';

/** One line per route: auth and input from the route contract, then one use case. */
@Controller()
export class AddonsController {
  constructor(
    private readonly addons: ClusterAddons,
    private readonly versions: AddonVersions,
  ) {}

  @Endpoint(routes.listAddonCatalogue)
  catalogue() {
    return this.versions.list();
  }

  @Endpoint(routes.listClusterAddons)
  list(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.listClusterAddons>) {
    return this.addons.list(caller.organizationId, params.cluster_id);
  }

  @Endpoint(routes.putClusterAddon)
  put(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params, body }: RouteInput<typeof routes.putClusterAddon>,
    @Headers('idempotency-key') key?: string,
  ) {
    return this.addons.put({ organizationId: caller.organizationId, actor: actorOf(caller), idempotencyKey: key }, params, body);
  }

  @Endpoint(routes.deleteClusterAddon)
  remove(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params }: RouteInput<typeof routes.deleteClusterAddon>,
    @Headers('idempotency-key') key?: string,
  ) {
    return this.addons.remove({ organizationId: caller.organizationId, actor: actorOf(caller), idempotencyKey: key }, params);
  }
}

@Controller()
export class StaffAddonsController {
  constructor(private readonly versions: AddonVersions) {}

  @Endpoint(routes.adminListAddonVersions)
  list() {
    return this.versions.listForStaff();
  }

  @Endpoint(routes.adminPutAddonVersion)
  put(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminPutAddonVersion>) {
    return this.versions.put(actorOf(staff), params, body);
  }
}
