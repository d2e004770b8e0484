import type { RouteContract } from '@capstan/contracts';
import { DomainError, ForbiddenError, UnauthenticatedError } from '@capstan/domain';
import { IDEMPOTENCY_SCOPE, ROUTE_CONTRACT } from '@capstan/platform';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClsService } from 'nestjs-cls';
import { FailedAuthLimiter } from '../rate-limit/failed-auth-limiter';
import { tokenKindOf } from '../tokens/token-secret';
import { type Caller, roleAtLeast, type StaffRole } from './caller';
import { CUSTOMER_TOKEN, STAFF_OIDC, STAFF_TOKEN } from './strategies';

export const CALLER = 'capstan:caller';

/** Passport guards that report failures as our own problems instead of a bare 401. */
function passportGuard(strategy: string) {
  return new (class extends AuthGuard(strategy) {
    override handleRequest<T>(error: unknown, user: T): T {
      if (error) throw error;
      if (!user) throw new UnauthenticatedError('a valid bearer token is required (Authorization: Bearer ...)');
      return user;
    }
  })();
}

/**
 * The one place that decides who may call a route, from the access its contract declares:
 * customers need a token with the right scope (and an active organisation to write); staff need
 * at least the route's role. A customer token never opens a staff route, and staff are not a
 * customer of any organisation.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly customer = passportGuard(CUSTOMER_TOKEN);
  private readonly staffToken = passportGuard(STAFF_TOKEN);
  private readonly staffOidc = passportGuard(STAFF_OIDC);

  constructor(
    private readonly reflector: Reflector,
    private readonly cls: ClsService,
    private readonly failures: FailedAuthLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.reflector.get<RouteContract | undefined>(ROUTE_CONTRACT, context.getHandler());
    if (!route || route.access === 'public') return true;
    try {
      return await this.authorize(context, route);
    } catch (error) {
      if (!(error instanceof DomainError && error.kind === 'unauthenticated')) throw error;
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      // Only a credential that was presented and failed counts: a request without one guesses nothing.
      if (request.headers.authorization === undefined) throw error;
      const limited = await this.failures.failureFrom(request.ip);
      if (!limited) throw error;
      void context.switchToHttp().getResponse<FastifyReply>().header('retry-after', String(limited.retryAfterSeconds));
      throw limited;
    }
  }

  private async authorize(context: ExecutionContext, route: RouteContract): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: Caller }>();
    const presented = bearerOf(request);
    const [audience, level] = route.access.split(':') as ['customer' | 'staff', string];

    let caller: Caller;
    if (audience === 'customer') {
      if (presented && tokenKindOf(presented) === 'staff') {
        throw new ForbiddenError('customer-route', 'staff credentials are not a customer of any organisation; use the /admin/v1 endpoints');
      }
      await this.customer.canActivate(context);
      caller = request.user!;
      if (caller.kind !== 'customer') throw new UnauthenticatedError();
      if (!caller.scopes.includes(level as 'read' | 'write')) {
        throw new ForbiddenError('insufficient-scope', `this endpoint needs a token with the ${level} scope; this token has ${caller.scopes.join(', ')}`);
      }
      if (level === 'write' && caller.organizationStatus === 'suspended') {
        throw new ForbiddenError(
          'organization-suspended',
          `the organisation is suspended: ${caller.suspendedReason ?? 'no reason given'}; reads still work, changes do not`,
        );
      }
    } else {
      if (presented && tokenKindOf(presented) === 'customer') {
        throw new ForbiddenError('staff-route', 'customer API tokens cannot call staff endpoints');
      }
      await (presented && tokenKindOf(presented) === 'staff' ? this.staffToken : this.staffOidc).canActivate(context);
      caller = request.user!;
      if (caller.kind !== 'staff') throw new UnauthenticatedError();
      if (!roleAtLeast(caller.role, level as StaffRole)) {
        throw new ForbiddenError('insufficient-role', `this endpoint needs the ${level} role; you have ${caller.role}`);
      }
    }
    this.cls.set(CALLER, caller);
    // Idempotency keys are per organisation for customers, per person for staff.
    this.cls.set(IDEMPOTENCY_SCOPE, caller.kind === 'customer' ? caller.organizationId : `staff:${caller.staffUserId}`);
    return true;
  }
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}
