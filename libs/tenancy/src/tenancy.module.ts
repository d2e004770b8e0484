import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AccessGuard } from './auth/access.guard';
import { BoardSessionController } from './board/board-session.controller';
import { BoardSessions } from './board/board-sessions';
import { CustomerTokenStrategy, StaffOidcStrategy, StaffTokenStrategy } from './auth/strategies';
import { TokenAuthenticator } from './auth/token-authenticator';
import { AuditLog } from './audit/audit-log';
import { OrganizationsService } from './organizations/organizations.service';
import { FailedAuthLimiter } from './rate-limit/failed-auth-limiter';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { CustomerTenancyController, StaffTenancyController } from './tenancy.controller';
import { StaffTokensService } from './tokens/staff-tokens.service';
import { TokensService } from './tokens/tokens.service';

/**
 * Who is calling and what they may do: API tokens, staff sign-in, access per route, rate limits,
 * idempotency keys, the audit log and organisations. The guards and interceptors are global, so
 * no route can forget them; each reads what its route's contract declares.
 */
@Module({
  imports: [PassportModule.register({ session: false })],
  controllers: [CustomerTenancyController, StaffTenancyController, BoardSessionController],
  providers: [
    TokenAuthenticator,
    CustomerTokenStrategy,
    StaffTokenStrategy,
    StaffOidcStrategy,
    AuditLog,
    OrganizationsService,
    TokensService,
    StaffTokensService,
    FailedAuthLimiter,
    BoardSessions,
    { provide: APP_GUARD, useClass: AccessGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
  ],
  exports: [AuditLog, OrganizationsService, BoardSessions],
})
export class TenancyModule {}
