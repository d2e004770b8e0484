import type { AddressInfo } from 'node:net';
import { newId, PrismaService } from '@capstan/platform';
import { type CapstanClient, createCapstanClient, type Problem } from '@capstan/sdk';
import { seedOrganization, seedStaff, seedToken, startTestApi, type TestApi } from '@capstan/testing';

/**
 * An on-call week as provider staff live it, through the SDK over real HTTP: a customer's token
 * leaks and is revoked (by id, or by the leaked secret alone), and the audit log is searched for
 * who changed what in a time range, and which clusters burn their error budget right now
 * (docs/staff.md).
 */
describe('staff on call: leaked tokens, audit search, error budgets burning, stuck operations and versions', () => {
  let api: TestApi;
  let prisma: PrismaService;
  let baseUrl: string;
  let operator: CapstanClient;
  let operatorTokenId: string;
  let viewer: CapstanClient;

  beforeAll(async () => {
    api = await startTestApi();
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(api.app.getHttpServer().address() as AddressInfo).port}`;
    prisma = api.app.get(PrismaService);
    const seededOperator = await seedStaff(prisma, 'operator');
    operator = createCapstanClient({ baseUrl, token: seededOperator.token });
    operatorTokenId = (await prisma.staffApiToken.findFirstOrThrow({ where: { staffUserId: seededOperator.staffUserId } })).id;
    viewer = createCapstanClient({ baseUrl, token: (await seedStaff(prisma, 'viewer')).token });
  });

  afterAll(async () => {
    await api.close();
  });

  function expectProblem(result: { error?: unknown; response: Response }, status: number, slug: string): Problem {
    expect(result.response.status).toBe(status);
    expect(result.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(result.error).toMatchObject({ type: `https://capstan.dev/problems/${slug}`, status });
    return result.error as Problem;
  }

  const customerClient = (token: string) => createCapstanClient({ baseUrl, token });

  describe('revoking a token', () => {
    it("lists an organisation's tokens and revokes one with a reason: it answers 401 at once, the staff actor and reason are audited", async () => {
      // given an organisation with two tokens, one of which leaked
      const org = await seedOrganization(prisma, { name: 'leaky-ag' });
      const kept = await seedToken(prisma, org.organizationId, ['read']);
      const listed = await viewer.GET('/admin/v1/organizations/{organization_id}/tokens', { params: { path: { organization_id: org.organizationId } } });
      expect(listed.response.status).toBe(200);
      expect(listed.data!.items.map((t) => t.id).sort()).toEqual([org.tokenId, kept.tokenId].sort());
      expect(JSON.stringify(listed.data)).not.toContain(org.token);

      // when staff revoke it
      const revoked = await operator.POST('/admin/v1/organizations/{organization_id}/tokens/{token_id}/revoke', {
        params: { path: { organization_id: org.organizationId, token_id: org.tokenId } },
        body: { reason: 'secret pushed to a public repository, INC-4411' },
      });

      // then it no longer authenticates, the other token still does, and the list shows only the live one
      expect(revoked.response.status).toBe(204);
      const refused = await customerClient(org.token).GET('/v1/organization');
      expect(refused.response.status).toBe(401);
      expect((await customerClient(kept.token).GET('/v1/organization')).response.status).toBe(200);
      const after = await viewer.GET('/admin/v1/organizations/{organization_id}/tokens', { params: { path: { organization_id: org.organizationId } } });
      expect(after.data!.items.map((t) => t.id)).toEqual([kept.tokenId]);

      // and the audit log names the staff credential and the reason, in the customer's own log too
      const audit = await customerClient(kept.token).GET('/v1/audit-events', { params: { query: { action: 'token.revoke' } } });
      expect(audit.data!.items).toEqual([
        expect.objectContaining({
          organization_id: org.organizationId,
          actor: { type: 'staff_token', id: operatorTokenId },
          target: { type: 'api_token', id: org.tokenId },
          reason: 'secret pushed to a public repository, INC-4411',
        }),
      ]);

      // and a second revoke says it was revoked already, and when
      const again = await operator.POST('/admin/v1/organizations/{organization_id}/tokens/{token_id}/revoke', {
        params: { path: { organization_id: org.organizationId, token_id: org.tokenId } },
        body: { reason: 'double check' },
      });
      expect(expectProblem(again, 409, 'token-already-revoked').detail).toMatch(new RegExp(`^API token ${org.tokenId} was revoked already, at \\d{4}-`));
    });

    it('answers 404 for a token named under another organisation, and for an organisation that does not exist; revokes nothing', async () => {
      // given two organisations
      const owner = await seedOrganization(prisma, { name: 'owner-ag' });
      const other = await seedOrganization(prisma, { name: 'other-ag' });

      // when staff name the owner's token under the other organisation
      const crossed = await operator.POST('/admin/v1/organizations/{organization_id}/tokens/{token_id}/revoke', {
        params: { path: { organization_id: other.organizationId, token_id: owner.tokenId } },
        body: { reason: 'wrong organisation' },
      });

      // then
      expectProblem(crossed, 404, 'not-found');
      expect((await customerClient(owner.token).GET('/v1/organization')).response.status).toBe(200);
      const missing = 'org_01jd3z6q4e5k8w2x9v7b0c1n2m';
      expectProblem(await viewer.GET('/admin/v1/organizations/{organization_id}/tokens', { params: { path: { organization_id: missing } } }), 404, 'not-found');
    });

    it('revokes a leaked secret without knowing whose it is, answering its organisation; the secret is kept nowhere', async () => {
      // given a secret found in the wild
      const org = await seedOrganization(prisma, { name: 'found-on-github' });

      // when staff revoke it by the secret alone
      const revoked = await operator.POST('/admin/v1/tokens/revoke', { body: { secret: org.token, reason: 'GitHub secret scanning alert 982' } });

      // then the answer names the token and the organisation to tell, and the secret is dead
      expect(revoked.response.status).toBe(200);
      expect(revoked.data).toMatchObject({ id: org.tokenId, organization_id: org.organizationId, name: 'test', display_prefix: org.token.slice(0, 10) });
      expect(Date.parse(revoked.data!.revoked_at)).not.toBeNaN();
      expect((await customerClient(org.token).GET('/v1/organization')).response.status).toBe(401);

      // and the audit event is the staff credential's, with the reason, and never the secret
      const audit = await viewer.GET('/admin/v1/audit-events', { params: { query: { organization_id: org.organizationId, action: 'token.revoke' } } });
      expect(audit.data!.items).toEqual([
        expect.objectContaining({
          actor: { type: 'staff_token', id: operatorTokenId },
          target: { type: 'api_token', id: org.tokenId },
          reason: 'GitHub secret scanning alert 982',
          changes: { revoked_at: { after: revoked.data!.revoked_at } },
        }),
      ]);
      const rows = await prisma.auditEvent.findMany({ where: { organizationId: org.organizationId } });
      expect(JSON.stringify(rows)).not.toContain(org.token.slice(4));

      // and once more: revoked already
      expectProblem(await operator.POST('/admin/v1/tokens/revoke', { body: { secret: org.token, reason: 'again' } }), 409, 'token-already-revoked');
    });

    it('answers 404 for a well-formed secret Capstan never issued, 400 for anything else, and refuses customers and viewers', async () => {
      const unknown = `cap_${'A'.repeat(43)}`;
      const notFound = expectProblem(await operator.POST('/admin/v1/tokens/revoke', { body: { secret: unknown, reason: 'scanner hit' } }), 404, 'not-found');
      expect(notFound.detail).toBe('no API token has this secret: Capstan never issued it');
      expect(JSON.stringify(notFound)).not.toContain(unknown);
      const staffSecret = (await seedStaff(prisma, 'viewer')).token;
      const malformed = await operator.POST('/admin/v1/tokens/revoke', { body: { secret: staffSecret, reason: 'a staff token' } });
      expect(malformed.response.status).toBe(400);
      expect(JSON.stringify(malformed.error)).not.toContain(staffSecret);

      const customer = await seedOrganization(prisma, { name: 'self-revoker' });
      expectProblem(
        await customerClient(customer.token).POST('/admin/v1/tokens/revoke', { body: { secret: customer.token, reason: 'mine' } }),
        403,
        'staff-route',
      );
      expectProblem(
        await customerClient(customer.token).GET('/admin/v1/organizations/{organization_id}/tokens', {
          params: { path: { organization_id: customer.organizationId } },
        }),
        403,
        'staff-route',
      );
      expectProblem(await viewer.POST('/admin/v1/tokens/revoke', { body: { secret: customer.token, reason: 'viewer tries' } }), 403, 'insufficient-role');
      expect((await customerClient(customer.token).GET('/v1/organization')).response.status).toBe(200);
    });
  });

  describe('revoking a staff token', () => {
    /** A staff member of `role` with a live token, and that token's id. */
    async function staffWithToken(role: 'viewer' | 'operator' | 'admin') {
      const seeded = await seedStaff(prisma, role);
      const tokenId = (await prisma.staffApiToken.findFirstOrThrow({ where: { staffUserId: seeded.staffUserId } })).id;
      return { ...seeded, tokenId, client: createCapstanClient({ baseUrl, token: seeded.token }) };
    }
    const stillWorks = async (token: string) => (await createCapstanClient({ baseUrl, token }).GET('/admin/v1/organizations')).response.status;

    it("an admin revokes another staff member's token by id: 401 at once, audited with the reason; again is a 409, an unknown id a 404", async () => {
      // given an admin and an operator whose token leaked
      const admin = await staffWithToken('admin');
      const leaky = await staffWithToken('operator');

      // when the admin revokes it by id
      const revoked = await admin.client.POST('/admin/v1/staff-tokens/{staff_token_id}/revoke', {
        params: { path: { staff_token_id: leaky.tokenId } },
        body: { reason: 'pasted into a public chat, INC-5120' },
      });

      // then it answers 401 from the next request on, and the answer names whose it was
      expect(revoked.response.status).toBe(200);
      expect(revoked.data).toMatchObject({ id: leaky.tokenId, staff_user_id: leaky.staffUserId, revoked_at: expect.any(String) });
      expect(JSON.stringify(revoked.data)).not.toContain(leaky.token);
      expect(await stillWorks(leaky.token)).toBe(401);
      expect(await stillWorks(admin.token)).toBe(200);

      // and the audit log has it with the admin's token and the reason
      const audit = await viewer.GET('/admin/v1/audit-events', { params: { query: { target_id: leaky.tokenId } } });
      expect(audit.data!.items).toEqual([
        expect.objectContaining({
          organization_id: null,
          action: 'staff_token.revoke',
          actor: { type: 'staff_token', id: admin.tokenId },
          target: { type: 'staff_api_token', id: leaky.tokenId },
          reason: 'pasted into a public chat, INC-5120',
        }),
      ]);

      // and a second revoke says when it was revoked; an id no token has is a 404
      const again = await admin.client.POST('/admin/v1/staff-tokens/{staff_token_id}/revoke', {
        params: { path: { staff_token_id: leaky.tokenId } },
        body: { reason: 'again' },
      });
      expect(expectProblem(again, 409, 'token-already-revoked').revoked_at).toBe(revoked.data!.revoked_at);
      const unknown = await admin.client.POST('/admin/v1/staff-tokens/{staff_token_id}/revoke', {
        params: { path: { staff_token_id: newId('stok') } },
        body: { reason: 'typo' },
      });
      expectProblem(unknown, 404, 'not-found');
    });

    it('by id is for admins only: operators and viewers get 403 insufficient-role, customers 403 staff-route; nothing is revoked', async () => {
      const target = await staffWithToken('viewer');
      const customer = await seedOrganization(prisma, { name: 'not-staff-revoker' });
      for (const [client, slug] of [
        [operator, 'insufficient-role'],
        [viewer, 'insufficient-role'],
        [customerClient(customer.token), 'staff-route'],
      ] as const) {
        const refused = await client.POST('/admin/v1/staff-tokens/{staff_token_id}/revoke', {
          params: { path: { staff_token_id: target.tokenId } },
          body: { reason: 'not mine to revoke' },
        });
        expectProblem(refused, 403, slug);
      }
      const bySecret = await customerClient(customer.token).POST('/admin/v1/staff-tokens/revoke', {
        body: { secret: target.token, reason: 'not mine to revoke' },
      });
      expectProblem(bySecret, 403, 'staff-route');
      expect(await stillWorks(target.token)).toBe(200);
    });

    it("an operator revokes a leaked staff secret without knowing whose it is; a secret never issued is a 404, a customer's secret a 400", async () => {
      const leaky = await staffWithToken('admin');
      const revoked = await operator.POST('/admin/v1/staff-tokens/revoke', { body: { secret: leaky.token, reason: 'secret scanning alert 91' } });
      expect(revoked.response.status).toBe(200);
      expect(revoked.data).toMatchObject({ id: leaky.tokenId, staff_user_id: leaky.staffUserId });
      expect(await stillWorks(leaky.token)).toBe(401);
      const rows = await prisma.auditEvent.findMany({ where: { targetId: leaky.tokenId } });
      expect(rows).toEqual([expect.objectContaining({ action: 'staff_token.revoke', actorId: operatorTokenId, reason: 'secret scanning alert 91' })]);
      expect(JSON.stringify(rows)).not.toContain(leaky.token);

      const again = await operator.POST('/admin/v1/staff-tokens/revoke', { body: { secret: leaky.token, reason: 'again' } });
      expectProblem(again, 409, 'token-already-revoked');
      const neverIssued = await operator.POST('/admin/v1/staff-tokens/revoke', { body: { secret: `capstaff_${'A'.repeat(43)}`, reason: 'made up' } });
      expectProblem(neverIssued, 404, 'not-found');
      const customer = await seedOrganization(prisma, { name: 'wrong-kind-of-secret' });
      const wrongKind = await operator.POST('/admin/v1/staff-tokens/revoke', { body: { secret: customer.token, reason: 'wrong route' } });
      expect(expectProblem(wrongKind, 400, 'validation-failed').errors).toEqual([expect.objectContaining({ field: 'secret' })]);
      const viewerTry = await viewer.POST('/admin/v1/staff-tokens/revoke', { body: { secret: customer.token, reason: 'viewer' } });
      expectProblem(viewerTry, 403, 'insufficient-role');
    });

    it('refuses by id the revocation that would leave no enabled admin a way to sign in; a leaked secret is revoked regardless', async () => {
      // given one admin with one token, every other admin disabled for the test
      const others = await prisma.staffUser.findMany({ where: { role: 'admin', disabledAt: null }, select: { id: true } });
      await prisma.staffUser.updateMany({ where: { id: { in: others.map((o) => o.id) } }, data: { disabledAt: new Date() } });
      try {
        const last = await staffWithToken('admin');

        // when the admin revokes its own last token by id
        const own = await last.client.POST('/admin/v1/staff-tokens/{staff_token_id}/revoke', {
          params: { path: { staff_token_id: last.tokenId } },
          body: { reason: 'rotating' },
        });

        // then it is refused, and the token still works
        expect(expectProblem(own, 409, 'last-admin-credential').detail).toContain(last.tokenId);
        expect(await stillWorks(last.token)).toBe(200);
        expect(await prisma.auditEvent.count({ where: { targetId: last.tokenId } })).toBe(0);

        // and with a second token of an admin it goes through (rotation)
        const second = await staffWithToken('admin');
        const rotated = await last.client.POST('/admin/v1/staff-tokens/{staff_token_id}/revoke', {
          params: { path: { staff_token_id: last.tokenId } },
          body: { reason: 'rotating' },
        });
        expect(rotated.response.status).toBe(200);
        expect(await stillWorks(last.token)).toBe(401);

        // and an admin signing in through OIDC counts as a way in
        const refused = await second.client.POST('/admin/v1/staff-tokens/{staff_token_id}/revoke', {
          params: { path: { staff_token_id: second.tokenId } },
          body: { reason: 'rotating' },
        });
        expectProblem(refused, 409, 'last-admin-credential');
        await prisma.staffUser.update({ where: { id: last.staffUserId }, data: { oidcSubject: `oidc-${last.staffUserId}` } });
        const withOidc = await second.client.POST('/admin/v1/staff-tokens/{staff_token_id}/revoke', {
          params: { path: { staff_token_id: second.tokenId } },
          body: { reason: 'rotating' },
        });
        expect(withOidc.response.status).toBe(200);

        // and the last admin token, leaked, is revoked by its secret all the same
        await prisma.staffUser.update({ where: { id: last.staffUserId }, data: { oidcSubject: null } });
        const third = await staffWithToken('admin');
        const leaked = await operator.POST('/admin/v1/staff-tokens/revoke', { body: { secret: third.token, reason: 'leaked, lockout accepted' } });
        expect(leaked.response.status).toBe(200);
        expect(await stillWorks(third.token)).toBe(401);
      } finally {
        await prisma.staffUser.updateMany({ where: { id: { in: others.map((o) => o.id) } }, data: { disabledAt: null } });
      }
    });
  });

  describe('searching the audit log', () => {
    it("finds what one customer's token changed in a time range, across organisations, a page at a time", async () => {
      // given two organisations whose tokens each create and revoke tokens
      const acme = await seedOrganization(prisma, { name: 'acme-audit' });
      const globex = await seedOrganization(prisma, { name: 'globex-audit' });
      for (const org of [acme, globex]) {
        const client = customerClient(org.token);
        for (const name of ['ci-1', 'ci-2', 'ci-3']) {
          const created = await client.POST('/v1/tokens', { body: { name } });
          expect(created.response.status).toBe(201);
        }
      }
      const everything = await viewer.GET('/admin/v1/audit-events', { params: { query: { actor_id: acme.tokenId, limit: 100 } } });
      expect(everything.data!.items).toHaveLength(3);
      expect(everything.data!.items.every((e) => e.organization_id === acme.organizationId && e.actor.id === acme.tokenId)).toBe(true);

      // when staff ask from the second event's instant on
      const since = [...everything.data!.items].reverse()[1]!.created_at;
      const fromSince = await viewer.GET('/admin/v1/audit-events', { params: { query: { actor_id: acme.tokenId, since, limit: 100 } } });

      // then only events at or after it come back (events of one millisecond included alike)
      const expected = everything.data!.items.filter((e) => Date.parse(e.created_at) >= Date.parse(since)).map((e) => e.id);
      expect(expected.length).toBeGreaterThanOrEqual(2);
      expect(fromSince.data!.items.map((e) => e.id)).toEqual(expected);

      // and `until` is exclusive
      const beforeSince = await viewer.GET('/admin/v1/audit-events', { params: { query: { organization_id: acme.organizationId, until: since, limit: 100 } } });
      expect(beforeSince.data!.items.every((e) => Date.parse(e.created_at) < Date.parse(since))).toBe(true);
      expect(beforeSince.data!.items.map((e) => e.id)).toEqual(everything.data!.items.filter((e) => !expected.includes(e.id)).map((e) => e.id));

      // and pages follow the filter
      const first = await viewer.GET('/admin/v1/audit-events', { params: { query: { actor_id: acme.tokenId, limit: 2 } } });
      expect(first.data!.items).toHaveLength(2);
      const second = await viewer.GET('/admin/v1/audit-events', { params: { query: { actor_id: acme.tokenId, limit: 2, cursor: first.data!.next_cursor! } } });
      expect([...first.data!.items, ...second.data!.items].map((e) => e.id)).toEqual(everything.data!.items.map((e) => e.id));
      expect(second.data!.next_cursor).toBeNull();

      // and a customer filtering by another organisation's token sees nothing of it
      const peek = await customerClient(globex.token).GET('/v1/audit-events', { params: { query: { actor_id: acme.tokenId } } });
      expect(peek.response.status).toBe(200);
      expect(peek.data!.items).toEqual([]);
    });

    it('pages through every filter combination finding each match exactly once, newest first, also when ids and instants disagree', async () => {
      // given events of two organisations and of staff (no organisation), with every mix of actor,
      // action and target, five instants shared by many events (ties), and ids made in an order
      // unlike their instants (an id is made when a transaction writes, its instant when it began)
      const acme = await seedOrganization(prisma, { name: 'acme-paging' });
      const globex = await seedOrganization(prisma, { name: 'globex-paging' });
      function targetOf(which: string, organizationId: string): string {
        return `cl_paging${which}${organizationId.slice(-17)}`;
      }
      const instants = [0, 1, 2, 3, 4].map((n) => new Date(Date.UTC(2021, 2, 1, 12, n)));
      const seeded = Array.from({ length: 72 }, (_, i) => ({
        id: newId('aud'),
        organizationId: [acme.organizationId, globex.organizationId, null][i % 3]!,
        actorType: 'api_token' as const,
        actorId: ['paging-actor-a', 'paging-actor-b'][Math.floor(i / 3) % 2]!,
        action: ['paging.create', 'paging.update'][Math.floor(i / 6) % 2]!,
        targetType: 'cluster',
        targetId: [targetOf('a', acme.organizationId), targetOf('b', acme.organizationId)][Math.floor(i / 12) % 2]!,
        createdAt: instants[(i * 7) % 5]!,
      }));
      await prisma.auditEvent.createMany({ data: seeded });
      const newestFirst = (a: (typeof seeded)[number], b: (typeof seeded)[number]) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1);
      const ours = new Set(seeded.map((e) => e.id));
      const choices = {
        organization_id: [acme.organizationId],
        actor_id: ['paging-actor-b'],
        action: ['paging.update'],
        target_id: [seeded[12]!.targetId],
        since: [instants[1]!.toISOString()],
        until: [instants[4]!.toISOString()],
      };
      const fields = Object.keys(choices) as (keyof typeof choices)[];

      for (let mask = 0; mask < 1 << fields.length; mask++) {
        const filter: Partial<Record<keyof typeof choices, string>> = {};
        fields.forEach((field, bit) => {
          if (mask & (1 << bit)) filter[field] = choices[field][0];
        });
        const expected = seeded
          .filter((e) => filter.organization_id === undefined || e.organizationId === filter.organization_id)
          .filter((e) => filter.actor_id === undefined || e.actorId === filter.actor_id)
          .filter((e) => filter.action === undefined || e.action === filter.action)
          .filter((e) => filter.target_id === undefined || e.targetId === filter.target_id)
          .filter((e) => filter.since === undefined || e.createdAt.getTime() >= Date.parse(filter.since))
          .filter((e) => filter.until === undefined || e.createdAt.getTime() < Date.parse(filter.until))
          .sort(newestFirst)
          .map((e) => e.id);

        // when staff page through it four at a time
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await viewer.GET('/admin/v1/audit-events', { params: { query: { ...filter, limit: 4, cursor } } });
          expect(page.response.status).toBe(200);
          seen.push(...page.data!.items.map((e) => e.id));
          cursor = page.data!.next_cursor ?? undefined;
        } while (cursor);

        // then every match comes exactly once, in order (other tests' events may be listed too when
        // nothing narrows to ours)
        expect(new Set(seen).size).toBe(seen.length);
        expect({ filter, ids: seen.filter((id) => ours.has(id)) }).toEqual({ filter, ids: expected });
      }

      // and the customer's own log pages the same way within its organisation
      const own: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await customerClient(acme.token).GET('/v1/audit-events', {
          params: { query: { since: instants[0]!.toISOString(), until: instants[4]!.toISOString(), limit: 3, cursor } },
        });
        expect(page.response.status).toBe(200);
        own.push(...page.data!.items.map((e) => e.id));
        cursor = page.data!.next_cursor ?? undefined;
      } while (cursor);
      const acmeExpected = seeded
        .filter((e) => e.organizationId === acme.organizationId && e.createdAt.getTime() < instants[4]!.getTime())
        .sort(newestFirst)
        .map((e) => e.id);
      expect(own).toEqual(acmeExpected);

      // and a cursor made from another organisation's event gives the customer nothing of it
      const foreign = seeded.find((e) => e.organizationId === globex.organizationId)!;
      const cursorOfForeign = Buffer.from(JSON.stringify({ after: foreign.id })).toString('base64url');
      const peek = await customerClient(acme.token).GET('/v1/audit-events', { params: { query: { cursor: cursorOfForeign } } });
      expect(peek.response.status).toBe(200);
      expect(peek.data!.items).toEqual([]);
    });

    it('answers 400 naming the field for a range that ends before it starts, or an instant that is not RFC 3339', async () => {
      const backwards = await viewer.GET('/admin/v1/audit-events', { params: { query: { since: '2026-12-05T00:00:00Z', until: '2026-12-04T00:00:00Z' } } });
      expect(expectProblem(backwards, 400, 'validation-failed').errors).toEqual([{ field: 'until', message: 'must be after since' }]);
      const notAnInstant = await viewer.GET('/admin/v1/audit-events', { params: { query: { since: 'yesterday' } } });
      expect(expectProblem(notAnInstant, 400, 'validation-failed').errors).toEqual([expect.objectContaining({ field: 'since' })]);
      const customer = await seedOrganization(prisma, { name: 'backwards-customer' });
      const own = await customerClient(customer.token).GET('/v1/audit-events', {
        params: { query: { since: '2026-12-05T00:00:00Z', until: '2026-12-05T00:00:00Z' } },
      });
      expectProblem(own, 400, 'validation-failed');
    });
  });

  describe('error budgets burning now', () => {
    /** A running cluster of the organisation, probed up since two hours ago and down for the last `downMinutes`. */
    async function clusterDownFor(organizationId: string, name: string, downMinutes: number): Promise<string> {
      const id = newId('cl');
      const now = Date.now();
      const since = new Date(now - 2 * 3_600_000);
      await prisma.cluster.create({
        data: {
          id,
          organizationId,
          name,
          liveName: name,
          provider: 'rke2',
          region: 'nine-cz41',
          currentVersion: '1.35.2',
          desiredVersion: '1.35.2',
          status: 'running',
          createdAt: since,
        },
      });
      const downFrom = new Date(now - downMinutes * 60_000);
      await prisma.availabilityInterval.createMany({
        data: [
          { clusterId: id, vantage: 'zrh', state: 'up', startedAt: since, endedAt: downFrom },
          { clusterId: id, vantage: 'zrh', state: 'down', startedAt: downFrom, endedAt: new Date(now) },
        ],
      });
      return id;
    }

    async function alert(clusterId: string, organizationId: string, severity: 'page' | 'ticket' | null, firingSince: Date | null) {
      await prisma.slaAlert.create({ data: { clusterId, organizationId, severity, firingSince, updatedAt: new Date() } });
    }

    it('lists the clusters with a burn-rate alert firing, pages first, each with its month so far; resolved alerts are not listed', async () => {
      // given a paging cluster, an older ticket, a resolved alert, and a second organisation's page
      const acme = await seedOrganization(prisma, { name: 'acme-burning' });
      const globex = await seedOrganization(prisma, { name: 'globex-burning' });
      const paging = await clusterDownFor(acme.organizationId, 'paging', 40);
      const ticketed = await clusterDownFor(acme.organizationId, 'ticketed', 10);
      const resolved = await clusterDownFor(acme.organizationId, 'resolved', 6);
      const elsewhere = await clusterDownFor(globex.organizationId, 'elsewhere', 30);
      await alert(paging, acme.organizationId, 'page', new Date(Date.now() - 35 * 60_000));
      await alert(ticketed, acme.organizationId, 'ticket', new Date(Date.now() - 50 * 60_000));
      await alert(resolved, acme.organizationId, null, null);
      await alert(elsewhere, globex.organizationId, 'page', new Date(Date.now() - 20 * 60_000));

      // when a viewer asks across the fleet
      const fleet = await viewer.GET('/admin/v1/sla/alerts');

      // then pages come first (oldest first), then tickets, each with its budget spent so far
      expect(fleet.response.status).toBe(200);
      const mine = fleet.data!.items.filter((i) => [paging, ticketed, resolved, elsewhere].includes(i.cluster_id));
      expect(mine.map((i) => [i.cluster_id, i.alert.severity])).toEqual([
        [paging, 'page'],
        [elsewhere, 'page'],
        [ticketed, 'ticket'],
      ]);
      const page = mine[0]!;
      expect(page).toMatchObject({ organization_id: acme.organizationId, cluster_name: 'paging', provider: 'rke2', final: false });
      expect(page.counted_downtime_minutes).toBeGreaterThanOrEqual(38);
      expect(page.error_budget.used_minutes).toBe(page.counted_downtime_minutes);
      expect(page.error_budget.remaining_minutes).toBe(page.error_budget.total_minutes - page.error_budget.used_minutes);

      // and one organisation's only, when asked
      const acmeOnly = await viewer.GET('/admin/v1/sla/alerts', { params: { query: { organization_id: acme.organizationId } } });
      expect(acmeOnly.data!.items.map((i) => i.cluster_id)).toEqual([paging, ticketed]);

      // and customers are refused
      expectProblem(await customerClient(acme.token).GET('/admin/v1/sla/alerts'), 403, 'staff-route');
    });
  });

  describe('stuck operations', () => {
    it('lists the running operations created before an instant, across organisations, newest first', async () => {
      // given running operations of two organisations, two started hours ago and one a minute ago
      const acme = await seedOrganization(prisma, { name: 'acme-stuck' });
      const globex = await seedOrganization(prisma, { name: 'globex-stuck' });
      const now = Date.now();
      async function running(organizationId: string, minutesAgo: number): Promise<string> {
        const clusterId = newId('cl');
        await prisma.cluster.create({
          data: {
            id: clusterId,
            organizationId,
            name: `c-${clusterId.slice(-6)}`,
            liveName: `c-${clusterId.slice(-6)}`,
            provider: 'rke2',
            region: 'nine-cz41',
            currentVersion: '1.35.2',
            desiredVersion: '1.35.2',
            status: 'updating',
          },
        });
        const id = newId('op');
        const at = new Date(now - minutesAgo * 60_000);
        await prisma.operation.create({
          data: {
            id,
            organizationId,
            clusterId,
            type: 'update_cluster',
            status: 'running',
            targetType: 'cluster',
            targetId: clusterId,
            params: {},
            requestedByType: 'api_token',
            requestedById: 'tok_seed',
            createdAt: at,
            startedAt: at,
          },
        });
        return id;
      }
      const acmeStuck = await running(acme.organizationId, 180);
      const globexStuck = await running(globex.organizationId, 120);
      const fresh = await running(acme.organizationId, 1);

      // when staff ask for those running for more than an hour
      const createdBefore = new Date(now - 60 * 60_000).toISOString();
      const stuck = await viewer.GET('/admin/v1/operations', { params: { query: { status: 'running', created_before: createdBefore, limit: 100 } } });

      // then the two old ones come back, each with its organisation, and not the fresh one
      expect(stuck.response.status).toBe(200);
      const ids = stuck.data!.items.map((o) => o.id);
      expect(ids).toEqual(expect.arrayContaining([acmeStuck, globexStuck]));
      expect(ids).not.toContain(fresh);
      expect(stuck.data!.items.every((o) => o.status === 'running' && Date.parse(o.created_at) < Date.parse(createdBefore))).toBe(true);
      expect(stuck.data!.items.find((o) => o.id === globexStuck)!.organization_id).toBe(globex.organizationId);
      expect(ids.indexOf(globexStuck)).toBeLessThan(ids.indexOf(acmeStuck));

      // and a word for an instant is a 400 naming the field
      const bad = await viewer.GET('/admin/v1/operations', { params: { query: { created_before: 'an hour ago' } } });
      expect(expectProblem(bad, 400, 'validation-failed').errors).toEqual([expect.objectContaining({ field: 'created_before' })]);
    });
  });

  describe('clusters on a version', () => {
    it('lists the clusters of every organisation on a minor (any patch) or on one exact version, never a longer minor that shares the prefix', async () => {
      // given clusters of two organisations on 1.3x versions
      const acme = await seedOrganization(prisma, { name: 'acme-versions' });
      const globex = await seedOrganization(prisma, { name: 'globex-versions' });
      async function clusterOn(organizationId: string, version: string): Promise<string> {
        const id = newId('cl');
        const name = `v-${id.slice(-8)}`;
        await prisma.cluster.create({
          data: {
            id,
            organizationId,
            name,
            liveName: name,
            provider: 'rke2',
            region: 'nine-cz41',
            currentVersion: version,
            desiredVersion: version,
            status: 'running',
          },
        });
        return id;
      }
      const acmeOld = await clusterOn(acme.organizationId, '1.31.4');
      const globexOld = await clusterOn(globex.organizationId, '1.31.9');
      const current = await clusterOn(acme.organizationId, '1.35.2');
      const lookalike = await clusterOn(globex.organizationId, '1.310.0');

      // when staff ask for the minor 1.31
      const onMinor = await viewer.GET('/admin/v1/clusters', { params: { query: { version: '1.31', limit: 100 } } });

      // then both organisations' 1.31 clusters, with their organisation, and nothing else
      expect(onMinor.response.status).toBe(200);
      const ours = (ids: string[]) => ids.filter((id) => [acmeOld, globexOld, current, lookalike].includes(id));
      expect(ours(onMinor.data!.items.map((c) => c.id)).sort()).toEqual([acmeOld, globexOld].sort());
      expect(onMinor.data!.items.every((c) => c.current_version.startsWith('1.31.'))).toBe(true);
      expect(onMinor.data!.items.find((c) => c.id === globexOld)!.organization_id).toBe(globex.organizationId);

      // and one exact version
      const exact = await viewer.GET('/admin/v1/clusters', { params: { query: { version: '1.31.9', limit: 100 } } });
      expect(ours(exact.data!.items.map((c) => c.id))).toEqual([globexOld]);

      // and a version that is not one is a 400 naming the field
      const bad = await viewer.GET('/admin/v1/clusters', { params: { query: { version: '1.31%' } } });
      expect(expectProblem(bad, 400, 'validation-failed').errors).toEqual([expect.objectContaining({ field: 'version' })]);
    });

    it("shows each cluster's support from the provider's catalogue and filters by it: eol, deprecated (end of support near), supported", async () => {
      // given catalogue minors of rke2 past end of support, in maintenance mode and supported, dated from today
      const day = (offset: number) => new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + offset));
      const minor = (name: string, maintenanceAt: Date, endOfSupportAt: Date) => ({
        provider: 'rke2' as const,
        minor: name,
        latestPatch: `${name}.0`,
        patches: [`${name}.0`],
        releasedAt: day(-400),
        maintenanceAt,
        endOfSupportAt,
        sources: {},
      });
      await prisma.kubernetesVersion.createMany({
        data: [minor('1.91', day(-60), day(-1)), minor('1.92', day(-1), day(60)), minor('1.93', day(300), day(360))],
      });
      const org = await seedOrganization(prisma, { name: 'acme-support' });
      async function clusterOn(provider: 'rke2' | 'gke', version: string): Promise<string> {
        const id = newId('cl');
        const name = `s-${id.slice(-8)}`;
        await prisma.cluster.create({
          data: {
            id,
            organizationId: org.organizationId,
            name,
            liveName: name,
            provider,
            region: provider === 'rke2' ? 'nine-cz41' : 'europe-west6',
            currentVersion: version,
            desiredVersion: version,
            status: 'running',
          },
        });
        return id;
      }
      const past = await clusterOn('rke2', '1.91.7');
      const near = await clusterOn('rke2', '1.92.3');
      const current = await clusterOn('rke2', '1.93.0');
      const otherProvider = await clusterOn('gke', '1.91.2-gke.100');
      try {
        // when staff list the organisation's clusters
        const all = await viewer.GET('/admin/v1/clusters', { params: { query: { organization_id: org.organizationId, limit: 100 } } });

        // then each says where its version stands, and a minor the provider's catalogue lacks is unknown
        expect(all.response.status).toBe(200);
        const supportOf = Object.fromEntries(all.data!.items.map((c) => [c.id, c.support]));
        expect(supportOf).toEqual({
          [past]: { status: 'eol', state: 'eol', end_of_support_at: day(-1).toISOString().slice(0, 10) },
          [near]: { status: 'deprecated', state: 'maintenance', end_of_support_at: day(60).toISOString().slice(0, 10) },
          [current]: { status: 'supported', state: 'supported', end_of_support_at: day(360).toISOString().slice(0, 10) },
          [otherProvider]: { status: 'unknown', state: null, end_of_support_at: null },
        });

        // and each filter lists exactly its clusters, paging included
        for (const [support, expected] of [
          ['eol', [past]],
          ['deprecated', [near]],
          ['supported', [current]],
        ] as const) {
          const seen: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await viewer.GET('/admin/v1/clusters', { params: { query: { organization_id: org.organizationId, support, limit: 1, cursor } } });
            expect(page.response.status).toBe(200);
            expect(page.data!.items.every((c) => c.support.status === support)).toBe(true);
            seen.push(...page.data!.items.map((c) => c.id));
            cursor = page.data!.next_cursor ?? undefined;
          } while (cursor);
          expect({ support, seen }).toEqual({ support, seen: [...expected] });
        }

        // and another word is a 400 naming the field
        const bad = await viewer.GET('/admin/v1/clusters', { params: { query: { support: 'maintenance' as never } } });
        expect(expectProblem(bad, 400, 'validation-failed').errors).toEqual([expect.objectContaining({ field: 'support' })]);
      } finally {
        await prisma.kubernetesVersion.deleteMany({ where: { provider: 'rke2', minor: { in: ['1.91', '1.92', '1.93'] } } });
      }
    });
  });
});
