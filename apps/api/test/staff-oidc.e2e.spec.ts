import { PrismaService } from '@capstan/platform';
import { seedOrganization, startTestApi, type TestApi } from '@capstan/testing';
import { exportJWK, generateKeyPair, type JWK, type KeyLike, SignJWT } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Staff sign in with access tokens from the provider's OIDC identity provider. A local JWKS
 * endpoint plays the identity provider, with real RS256 keys.
 */
describe('staff OIDC sign-in', () => {
  const issuer = 'https://id.provider.test/realms/staff';
  const audience = 'capstan-admin';
  let jwks: Server;
  let api: TestApi;
  let signingKey: KeyLike;
  let otherKey: KeyLike;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/certs`;
    api = await startTestApi({ OIDC_ISSUER: issuer, OIDC_AUDIENCE: audience, OIDC_JWKS_URL: jwksUrl, OIDC_ROLE_CLAIM: 'capstan_role' });
  });

  afterAll(async () => {
    await api.close();
    await new Promise((resolve) => jwks.close(resolve));
  });

  const token = (claims: Record<string, unknown>, options: { key?: KeyLike; aud?: string; iss?: string; exp?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(options.iss ?? issuer)
      .setAudience(options.aud ?? audience)
      .setSubject(String(claims.sub ?? 'staff-1'))
      .setIssuedAt()
      .setExpirationTime(options.exp ?? '5m')
      .sign(options.key ?? signingKey);

  const adminGet = async (jwt: string) => api.app.inject({ method: 'GET', url: '/admin/v1/organizations', headers: { authorization: `Bearer ${jwt}` } });

  it('lets a staff member in with the role from the configured claim, and records who they are', async () => {
    const jwt = await token({ sub: 'alice', email: 'alice@provider.test', name: 'Alice', capstan_role: 'operator' });
    const res = await api.app.inject({
      method: 'POST',
      url: '/admin/v1/organizations',
      headers: { authorization: `Bearer ${jwt}` },
      payload: { name: 'oidc-onboarded', display_name: 'Onboarded AG', residency: 'CH', quota: { max_clusters: 2, max_nodes: 10 } },
    });
    expect(res.statusCode).toBe(201);
    const prisma = api.app.get(PrismaService);
    const alice = await prisma.staffUser.findUniqueOrThrow({ where: { oidcSubject: 'alice' } });
    expect(alice).toMatchObject({ email: 'alice@provider.test', role: 'operator' });
    const event = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'organization.create', targetId: res.json().id } });
    expect(event).toMatchObject({ actorType: 'staff_user', actorId: alice.id });
  });

  it('holds a viewer to read-only staff routes', async () => {
    const jwt = await token({ sub: 'victor', capstan_role: 'viewer' });
    expect((await adminGet(jwt)).statusCode).toBe(200);
    const write = await api.app.inject({
      method: 'POST',
      url: '/admin/v1/organizations',
      headers: { authorization: `Bearer ${jwt}` },
      payload: { name: 'nope', display_name: 'Nope', residency: 'CH', quota: { max_clusters: 1, max_nodes: 1 } },
    });
    expect(write.statusCode).toBe(403);
    expect(write.json().type).toBe('https://capstan.dev/problems/insufficient-role');
  });

  it.each([
    ['no role claim', () => token({ sub: 'mallory' })],
    ['another audience', () => token({ capstan_role: 'admin' }, { aud: 'some-other-app' })],
    ['another issuer', () => token({ capstan_role: 'admin' }, { iss: 'https://evil.test' })],
    ['a key the identity provider does not publish', () => token({ capstan_role: 'admin' }, { key: otherKey })],
    ['an expired token', () => token({ capstan_role: 'admin' }, { exp: '-1m' })],
  ])('refuses a token with %s (401)', async (_, make) => {
    const res = await adminGet(await make());
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('does not let a staff JWT act as a customer', async () => {
    const jwt = await token({ sub: 'alice', capstan_role: 'admin' });
    await seedOrganization(api.app.get(PrismaService));
    const res = await api.app.inject({ method: 'GET', url: '/v1/clusters', headers: { authorization: `Bearer ${jwt}` } });
    expect(res.statusCode).toBe(401);
  });
});
