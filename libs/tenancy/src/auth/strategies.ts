import { UnauthenticatedError } from '@capstan/domain';
import { AuthConfig, Database, newId } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { CustomerCaller, StaffCaller, StaffRole } from './caller';
import { TokenAuthenticator } from './token-authenticator';

export const CUSTOMER_TOKEN = 'customer-token';
export const STAFF_TOKEN = 'staff-token';
export const STAFF_OIDC = 'staff-oidc';

@Injectable()
export class CustomerTokenStrategy extends PassportStrategy(BearerStrategy, CUSTOMER_TOKEN) {
  constructor(private readonly tokens: TokenAuthenticator) {
    super();
  }

  validate(secret: string): Promise<CustomerCaller> {
    return this.tokens.customer(secret);
  }
}

@Injectable()
export class StaffTokenStrategy extends PassportStrategy(BearerStrategy, STAFF_TOKEN) {
  constructor(private readonly tokens: TokenAuthenticator) {
    super();
  }

  validate(secret: string): Promise<StaffCaller> {
    return this.tokens.staff(secret);
  }
}

const ROLES: readonly StaffRole[] = ['viewer', 'operator', 'admin'];

/**
 * Staff access tokens (JWTs) from the provider's OIDC identity provider, verified against its
 * JWKS (keys cached and rate-limited by jwks-rsa). The role comes from a configured claim; a
 * first sign-in creates the staff user so audit events can name a person.
 */
@Injectable()
export class StaffOidcStrategy extends PassportStrategy(JwtStrategy, STAFF_OIDC) {
  constructor(
    config: AuthConfig,
    private readonly db: Database,
  ) {
    const oidc = config.oidc;
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: oidc
        ? passportJwtSecret({ jwksUri: oidc.jwksUrl, cache: true, rateLimit: true, jwksRequestsPerMinute: 10 })
        : (_req: unknown, _token: unknown, done: (err: Error) => void) => done(new UnauthenticatedError('staff sign-in through OIDC is not configured')),
      issuer: oidc?.issuer,
      audience: oidc?.audience,
      algorithms: ['RS256', 'ES256'],
    });
    this.roleClaim = oidc?.roleClaim ?? 'capstan_role';
  }

  private readonly roleClaim: string;

  async validate(claims: Record<string, unknown>): Promise<StaffCaller> {
    const subject = typeof claims.sub === 'string' ? claims.sub : undefined;
    const claimed = claims[this.roleClaim];
    const role = ROLES.find((r) => r === claimed || (Array.isArray(claimed) && claimed.includes(r)));
    if (!subject || !role) throw new UnauthenticatedError(`the token carries no Capstan role in its ${this.roleClaim} claim`);
    const email = typeof claims.email === 'string' ? claims.email : `${subject}@oidc`;
    const user = await this.db
      .insertInto('staff_users')
      .values({ id: newId('stf'), oidc_subject: subject, email, display_name: typeof claims.name === 'string' ? claims.name : email, role })
      .onConflict((conflict) => conflict.column('oidc_subject').doUpdateSet({ role }))
      .returning(['id', 'disabled_at'])
      .executeTakeFirstOrThrow();
    if (user.disabled_at) throw new UnauthenticatedError('the staff user is disabled');
    return { kind: 'staff', staffUserId: user.id, role, via: 'oidc' };
  }
}
