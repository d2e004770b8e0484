import { type RouteInput, tenancyRoutes as routes } from '@capstan/contracts';
import { Endpoint, Input, withLocation } from '@capstan/platform';
import { Controller, Headers } from '@nestjs/common';
import { actorOf, type CustomerCaller, type StaffCaller } from './auth/caller';
import { CurrentCustomer, CurrentStaff } from './auth/current-caller';
import { AuditLog, type AuditFilter } from './audit/audit-log';
import { OrganizationsService } from './organizations/organizations.service';
import { StaffTokensService } from './tokens/staff-tokens.service';
import { TokensService } from './tokens/tokens.service';

function auditFilterOf(query: RouteInput<typeof routes.listAuditEvents>['query']): AuditFilter {
  return { action: query.action, targetId: query.target_id, actorId: query.actor_id, since: query.since, until: query.until };
}

@Controller()
export class CustomerTenancyController {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly tokens: TokensService,
    private readonly audit: AuditLog,
  ) {}

  @Endpoint(routes.getOrganization)
  getOrganization(@CurrentCustomer() caller: CustomerCaller) {
    return this.organizations.get(caller.organizationId);
  }

  @Endpoint(routes.listTokens)
  listTokens(@CurrentCustomer() caller: CustomerCaller, @Input() { query }: RouteInput<typeof routes.listTokens>) {
    return this.tokens.list(caller.organizationId, query.limit, query.cursor);
  }

  @Endpoint(routes.createToken)
  createToken(@CurrentCustomer() caller: CustomerCaller, @Input() { body }: RouteInput<typeof routes.createToken>) {
    return this.tokens.create(actorOf(caller), caller.organizationId, { name: body.name, scopes: body.scopes, expiresInSeconds: body.expires_in_seconds });
  }

  @Endpoint(routes.revokeToken)
  revokeToken(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.revokeToken>) {
    return this.tokens.revoke(actorOf(caller), caller.organizationId, params.token_id);
  }

  @Endpoint(routes.listAuditEvents)
  listAuditEvents(@CurrentCustomer() caller: CustomerCaller, @Input() { query }: RouteInput<typeof routes.listAuditEvents>) {
    return this.audit.list({ ...auditFilterOf(query), organizationId: caller.organizationId }, query.limit, query.cursor);
  }
}

@Controller()
export class StaffTenancyController {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly tokens: TokensService,
    private readonly staffTokens: StaffTokensService,
    private readonly audit: AuditLog,
  ) {}

  @Endpoint(routes.adminRevokeStaffToken)
  revokeStaffToken(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminRevokeStaffToken>) {
    return this.staffTokens.revoke(actorOf(staff), params.staff_token_id, body.reason);
  }

  @Endpoint(routes.adminRevokeLeakedStaffToken)
  revokeLeakedStaffToken(@CurrentStaff() staff: StaffCaller, @Input() { body }: RouteInput<typeof routes.adminRevokeLeakedStaffToken>) {
    return this.staffTokens.revokeLeaked(actorOf(staff), body.secret, body.reason);
  }

  @Endpoint(routes.adminCreateOrganization)
  async create(@CurrentStaff() staff: StaffCaller, @Input() { body }: RouteInput<typeof routes.adminCreateOrganization>) {
    const org = await this.organizations.create(actorOf(staff), {
      name: body.name,
      displayName: body.display_name,
      residency: body.residency,
      plan: body.plan,
      maxClusters: body.quota.max_clusters,
      maxNodes: body.quota.max_nodes,
    });
    return withLocation(org, `/admin/v1/organizations/${org.id}`);
  }

  @Endpoint(routes.adminListOrganizations)
  list(@Input() { query }: RouteInput<typeof routes.adminListOrganizations>) {
    return this.organizations.list({ q: query.q, status: query.status }, query.limit, query.cursor);
  }

  @Endpoint(routes.adminGetOrganization)
  get(@Input() { params }: RouteInput<typeof routes.adminGetOrganization>) {
    return this.organizations.get(params.organization_id);
  }

  @Endpoint(routes.adminUpdateQuota)
  updateQuota(
    @CurrentStaff() staff: StaffCaller,
    @Input() { params, body }: RouteInput<typeof routes.adminUpdateQuota>,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.organizations.updateQuota(
      actorOf(staff),
      params.organization_id,
      ifMatch,
      { maxClusters: body.max_clusters, maxNodes: body.max_nodes },
      body.reason,
    );
  }

  @Endpoint(routes.adminSuspendOrganization)
  suspend(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminSuspendOrganization>) {
    return this.organizations.suspend(actorOf(staff), params.organization_id, body.reason);
  }

  @Endpoint(routes.adminResumeOrganization)
  resume(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminResumeOrganization>) {
    return this.organizations.resume(actorOf(staff), params.organization_id, body.reason);
  }

  @Endpoint(routes.adminIssueToken)
  issueToken(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminIssueToken>) {
    return this.tokens.create(
      actorOf(staff),
      params.organization_id,
      { name: body.name, scopes: body.scopes, expiresInSeconds: body.expires_in_seconds },
      body.reason,
    );
  }

  @Endpoint(routes.adminListTokens)
  listTokens(@Input() { params, query }: RouteInput<typeof routes.adminListTokens>) {
    return this.tokens.listOfOrganization(params.organization_id, query.limit, query.cursor);
  }

  @Endpoint(routes.adminRevokeToken)
  revokeToken(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminRevokeToken>) {
    return this.tokens.revoke(actorOf(staff), params.organization_id, params.token_id, body.reason);
  }

  @Endpoint(routes.adminRevokeLeakedToken)
  revokeLeakedToken(@CurrentStaff() staff: StaffCaller, @Input() { body }: RouteInput<typeof routes.adminRevokeLeakedToken>) {
    return this.tokens.revokeLeaked(actorOf(staff), body.secret, body.reason);
  }

  @Endpoint(routes.adminListAuditEvents)
  listAuditEvents(@Input() { query }: RouteInput<typeof routes.adminListAuditEvents>) {
    return this.audit.list({ ...auditFilterOf(query), organizationId: query.organization_id }, query.limit, query.cursor);
  }
}
