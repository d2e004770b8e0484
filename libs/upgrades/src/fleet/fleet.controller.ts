import { fleetRoutes as routes, type RouteInput } from '@capstan/contracts';
import { Endpoint, Input } from '@capstan/platform';
import { actorOf, CurrentCustomer, CurrentStaff, type CustomerCaller, type StaffCaller } from '@capstan/tenancy';
import { Controller } from '@nestjs/common';
import { ListAdvisories } from './advisories';
import { StaffSecurityUpgrade } from './security-upgrade';
import { StaffRollouts } from './staff-rollouts';

/** Customers' advisories: one line per route. */
@Controller()
export class AdvisoriesController {
  constructor(private readonly advisories: ListAdvisories) {}

  @Endpoint(routes.listAdvisories)
  list(@CurrentCustomer() caller: CustomerCaller, @Input() { query }: RouteInput<typeof routes.listAdvisories>) {
    return this.advisories.forOrganization(caller.organizationId, query.cluster_id);
  }
}

/** Staff's fleet routes: rollouts, advisories, the security override. One line per route. */
@Controller()
export class StaffFleetController {
  constructor(
    private readonly rollouts: StaffRollouts,
    private readonly advisories: ListAdvisories,
    private readonly securityUpgrade: StaffSecurityUpgrade,
  ) {}

  @Endpoint(routes.adminListRollouts)
  list(@Input() { query }: RouteInput<typeof routes.adminListRollouts>) {
    return this.rollouts.list({ state: query.state }, query.limit, query.cursor);
  }

  @Endpoint(routes.adminGetRollout)
  get(@Input() { params }: RouteInput<typeof routes.adminGetRollout>) {
    return this.rollouts.get(params.rollout_id);
  }

  @Endpoint(routes.adminPauseRollout)
  pause(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminPauseRollout>) {
    return this.rollouts.pause(actorOf(staff), params.rollout_id, body.reason);
  }

  @Endpoint(routes.adminResumeRollout)
  resume(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminResumeRollout>) {
    return this.rollouts.resume(actorOf(staff), params.rollout_id, body.reason);
  }

  @Endpoint(routes.adminHaltRollout)
  halt(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminHaltRollout>) {
    return this.rollouts.halt(actorOf(staff), params.rollout_id, body.reason);
  }

  @Endpoint(routes.adminListAdvisories)
  advisoriesOfFleet() {
    return this.advisories.forFleet();
  }

  @Endpoint(routes.adminSecurityUpgrade)
  secure(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminSecurityUpgrade>) {
    return this.securityUpgrade.execute(actorOf(staff), params.cluster_id, body);
  }
}
