import { Database } from '@capstan/platform';
import { seedOrganization, seedStaff, startTestApi, type TestApi } from '@capstan/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * The staff queue board (docs/observability.md, "Queue board"): a staff bearer token buys a
 * short-lived cookie, the cookie opens only /admin/queues, changes need this server's Origin, and
 * a session ends at logout, at expiry and when its person loses the role.
 */
function sessionOf(setCookie: string): string {
  const match = /^capstan_board=([^;]+)/.exec(setCookie);
  if (!match) throw new Error(`no session cookie in ${setCookie}`);
  return match[1]!;
}
/** Nest's passport strategies are process-wide: one API at a time per test process, so each describe has its own. */
const setCookieOf = (headers: Record<string, unknown>) => String(headers['set-cookie']);

async function openSession(app: NestFastifyApplication, bearer: string) {
  const res = await app.inject({ method: 'POST', url: '/admin/v1/session', headers: { authorization: `Bearer ${bearer}` } });
  return res;
}

describe('the staff queue board under /admin/queues', () => {
  let api: TestApi;
  let db: Database;
  let operator: { staffUserId: string; token: string };
  let viewer: string;
  let customer: string;
  let origin: string;

  beforeAll(async () => {
    api = await startTestApi();
    db = api.app.get(Database);
    operator = await seedStaff(db, 'operator');
    viewer = (await seedStaff(db, 'viewer')).token;
    customer = (await seedOrganization(db)).token;
    origin = new URL(api.config.http.publicUrl).origin;
  }, 60_000);

  afterAll(async () => {
    await api?.close();
  }, 30_000);

  const board = (url: string, cookie?: string, extra: Record<string, string> = {}) =>
    api.app.inject({ method: 'GET', url, headers: { ...(cookie ? { cookie: `capstan_board=${cookie}` } : {}), ...extra } });

  it('answers 401 problem+json without a session, for the page and its API alike', async () => {
    for (const url of ['/admin/queues', '/admin/queues/', '/admin/queues/api/queues', '/admin/queues/queue/operations', '/admin/queues/static/js/x.js']) {
      const res = await board(url);
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 401, detail: expect.stringContaining('POST /admin/v1/session') });
    }
    // A made-up or malformed cookie is no session either.
    expect((await board('/admin/queues/api/queues', `cbs_${'A'.repeat(43)}`)).statusCode).toBe(401);
    expect((await board('/admin/queues/api/queues', 'garbage')).statusCode).toBe(401);
  });

  it('opens a session only for operators, with an HttpOnly, SameSite=Strict cookie scoped to the board, and audits it', async () => {
    expect((await api.app.inject({ method: 'POST', url: '/admin/v1/session' })).statusCode).toBe(401);
    expect((await openSession(api.app, customer)).statusCode).toBe(403);
    expect((await openSession(api.app, viewer)).statusCode).toBe(403);

    const res = await openSession(api.app, operator.token);
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const cookie = setCookieOf(res.headers);
    expect(cookie).toMatch(/^capstan_board=cbs_[A-Za-z0-9_-]{43}; /);
    const attributes = cookie.split('; ').slice(1);
    expect(attributes).toEqual(expect.arrayContaining(['Path=/admin/queues', 'Max-Age=900', 'HttpOnly', 'SameSite=Strict']));
    // Plain HTTP here: a Secure cookie would never come back.
    expect(attributes).not.toContain('Secure');
    const expiresAt = new Date(res.json().expires_at).getTime();
    expect(expiresAt - Date.now()).toBeGreaterThan(890_000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(900_000);
    expect(res.body).not.toContain(sessionOf(cookie));

    const audit = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'board_session.open')
      .where('target_id', '=', operator.staffUserId)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_type: 'staff_token', target_type: 'staff_user' });
  });

  it('serves the board page and its queues with the cookie', async () => {
    const session = sessionOf(setCookieOf((await openSession(api.app, operator.token)).headers));
    const page = await board('/admin/queues/', session);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<base href="/admin/queues');
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(String(page.headers['content-security-policy'])).toContain("frame-ancestors 'none'");

    // Without the trailing slash too, as people type it.
    expect((await board('/admin/queues', session)).statusCode).toBe(200);

    const queues = await board('/admin/queues/api/queues', session);
    expect(queues.statusCode).toBe(200);
    expect(queues.json().queues.map((q: { name: string }) => q.name)).toEqual(['operations']);
  });

  it('never lets the cookie stand in for a bearer token on /v1 or /admin/v1', async () => {
    const session = sessionOf(setCookieOf((await openSession(api.app, operator.token)).headers));
    for (const url of ['/admin/v1/organizations', '/v1/clusters']) {
      expect((await board(url, session)).statusCode).toBe(401);
      const asBearer = await api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${session}` } });
      expect(asBearer.statusCode).toBe(401);
    }
  });

  it('refuses changes without this server in Origin (CSRF), and makes them with it', async () => {
    const session = sessionOf(setCookieOf((await openSession(api.app, operator.token)).headers));
    const pause = (headers: Record<string, string>) =>
      api.app.inject({ method: 'PUT', url: '/admin/queues/api/queues/operations/pause', headers: { cookie: `capstan_board=${session}`, ...headers } });
    for (const headers of [{}, { origin: 'https://evil.example' }, { origin: 'null' }] as Record<string, string>[]) {
      const refused = await pause(headers);
      expect(refused.statusCode).toBe(403);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await board('/admin/queues/api/queues', session)).json().queues[0].isPaused).toBe(false);

    expect((await pause({ origin })).statusCode).toBe(200);
    expect((await board('/admin/queues/api/queues', session)).json().queues[0].isPaused).toBe(true);
    const resume = await api.app.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/operations/resume',
      headers: { cookie: `capstan_board=${session}`, origin },
    });
    expect(resume.statusCode).toBe(200);
  });

  it('shows a browser the sign-in form, and signs it in with a staff token posted from this origin', async () => {
    const page = await board('/admin/queues/', undefined, { accept: 'text/html,application/xhtml+xml' });
    expect(page.statusCode).toBe(401);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<form method="post" action="/admin/queues/login">');
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'none'");

    const signIn = (token: string, headers: Record<string, string>) =>
      api.app.inject({
        method: 'POST',
        url: '/admin/queues/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
        payload: new URLSearchParams({ token }).toString(),
      });
    // Login CSRF: another site's form cannot sign a browser in.
    expect((await signIn(operator.token, { origin: 'https://evil.example' })).statusCode).toBe(403);
    expect((await signIn(operator.token, {})).statusCode).toBe(403);
    const wrong = await signIn('stok_not-a-real-token', { origin });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('<p role="alert">');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect((await signIn(viewer, { origin })).statusCode).toBe(403);

    const ok = await signIn(operator.token, { origin });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/admin/queues/');
    expect(setCookieOf(ok.headers).split('; ')).toEqual(expect.arrayContaining(['Path=/admin/queues', 'HttpOnly', 'SameSite=Strict']));
    expect((await board('/admin/queues/api/queues', sessionOf(setCookieOf(ok.headers)))).statusCode).toBe(200);
  });

  it('ends the session at logout: the cookie is deleted and no longer opens the board', async () => {
    const session = sessionOf(setCookieOf((await openSession(api.app, operator.token)).headers));
    const logout = await api.app.inject({ method: 'POST', url: '/admin/queues/logout', headers: { cookie: `capstan_board=${session}`, origin } });
    expect(logout.statusCode).toBe(204);
    expect(setCookieOf(logout.headers)).toMatch(/^capstan_board=; Path=\/admin\/queues; Max-Age=0; HttpOnly; SameSite=Strict/);
    expect((await board('/admin/queues/api/queues', session)).statusCode).toBe(401);
    const closed = await db
      .selectFrom('audit_events')
      .select('action')
      .where('action', '=', 'board_session.close')
      .where('target_id', '=', operator.staffUserId)
      .execute();
    expect(closed).toHaveLength(1);
  });

  it('ends the session when its person is demoted or disabled', async () => {
    const staff = await seedStaff(db, 'operator');
    const session = sessionOf(setCookieOf((await openSession(api.app, staff.token)).headers));
    expect((await board('/admin/queues/api/queues', session)).statusCode).toBe(200);
    await db.updateTable('staff_users').set({ role: 'viewer' }).where('id', '=', staff.staffUserId).execute();
    expect((await board('/admin/queues/api/queues', session)).statusCode).toBe(401);
    await db.updateTable('staff_users').set({ role: 'operator', disabled_at: new Date() }).where('id', '=', staff.staffUserId).execute();
    expect((await board('/admin/queues/api/queues', session)).statusCode).toBe(401);
  });
});

describe('queue board sessions over https, with a short lifetime', () => {
  let api: TestApi;
  let operator: string;

  beforeAll(async () => {
    api = await startTestApi({ PUBLIC_URL: 'https://capstan.example.com', BOARD_SESSION_TTL_SECONDS: '3' });
    operator = (await seedStaff(api.app.get(Database), 'operator')).token;
  }, 60_000);

  afterAll(async () => {
    await api?.close();
  }, 30_000);

  it('marks the cookie Secure when the API is reached over https', async () => {
    const res = await openSession(api.app, operator);
    expect(res.statusCode).toBe(201);
    expect(setCookieOf(res.headers).split('; ')).toEqual(expect.arrayContaining(['Secure', 'Max-Age=3']));
  });

  it('honours the session expiry (BOARD_SESSION_TTL_SECONDS)', async () => {
    const opened = await openSession(api.app, operator);
    const openedAt = Date.now();
    const session = sessionOf(setCookieOf(opened.headers));
    const get = () => api.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie: `capstan_board=${session}` } });
    expect((await get()).statusCode).toBe(200);
    // Polled, not slept: it must end, and not before its three seconds.
    let status = 200;
    while (status === 200 && Date.now() - openedAt < 20_000) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await get()).statusCode;
    }
    expect(status).toBe(401);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(2_900);
  }, 30_000);
});
