import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureId, kyselyOf, seedFleetCatalogue, seedOrganization, seedRunningCluster, seedStaff, seedToken, useTestApi } from '@capstan/testing';
import { assertCliBuilt, type CliRun, runCapstan, spawnCapstan } from './cli-process';

/**
 * The staff commands as on-call staff run them (docs/cli.md, docs/staff.md), as processes against
 * the real API: revoking a leaked token, searching the audit log a page at a time, and the month's
 * SLA breaches and the credits billing loads. Every table is checked against what the API answers.
 */
describe('the capstan CLI: staff on call', () => {
  const started = useTestApi();
  let prisma: (typeof started)['prisma'];
  let apiUrl: string;
  let home: string;
  let operatorToken: string;

  beforeAll(async () => {
    assertCliBuilt();
    await started.api.app.listen({ host: '127.0.0.1', port: 0 });
    apiUrl = `http://127.0.0.1:${(started.api.app.getHttpServer().address() as AddressInfo).port}`;
    prisma = started.prisma;
    operatorToken = (await seedStaff(prisma, 'operator')).token;
    home = mkdtempSync(join(tmpdir(), 'capstan-cli-staff-'));
  }, 90_000);

  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  const staff = (...args: string[]) => runCapstan({ home, apiUrl, token: operatorToken }, args);
  const as = (token: string, ...args: string[]) => runCapstan({ home, apiUrl, token }, args);

  /** `capstan ...args` with `input` written to its stdin. */
  function staffWithStdin(input: string, ...args: string[]): Promise<CliRun> {
    return new Promise((resolve, reject) => {
      const child = spawnCapstan({ home, apiUrl, token: operatorToken }, args);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += String(c)));
      child.stderr.on('data', (c) => (stderr += String(c)));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  async function apiGet<T>(path: string, token = operatorToken, accept = 'application/json'): Promise<T> {
    const response = await fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${token}`, accept } });
    expect(response.status).toBe(200);
    return (accept === 'text/csv' ? await response.text() : await response.json()) as T;
  }

  /** A table's rows as arrays of cells: the lines between the box rules, split at the column bars. */
  function rows(table: string): string[][] {
    return table
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('│'))
      .map((line) =>
        line
          .slice(1, -1)
          .split('│')
          .map((cell) => cell.trim()),
      );
  }

  it('tokens list and revoke: the revoked token answers 401, a second revoke says when it was revoked, a customer token is refused', async () => {
    // given an organisation with two tokens
    const org = await seedOrganization(prisma, { name: 'cli-leaky' });
    const kept = await seedToken(prisma, org.organizationId, ['read']);

    // when staff list them
    const listed = await staff('admin', 'tokens', 'list', org.organizationId);
    expect(listed.code).toBe(0);
    const [header, ...body] = rows(listed.stdout);
    expect(header).toEqual(['ID', 'NAME', 'PREFIX', 'SCOPES', 'LAST USED', 'EXPIRES', 'CREATED']);
    expect(body.map((cells) => cells[0]).sort()).toEqual([org.tokenId, kept.tokenId].sort());
    expect(listed.stdout).not.toContain(org.token);

    // and revoke one
    const revoked = await staff('admin', 'tokens', 'revoke', org.organizationId, org.tokenId, '--reason', 'leaked in a CI log');
    expect(revoked).toMatchObject({ code: 0, stderr: `revoked ${org.tokenId}\n` });

    // then it is dead, the other lives, and doing it again says it was revoked already
    expect((await as(org.token, 'clusters', 'list')).code).toBe(3);
    expect((await as(kept.token, 'clusters', 'list')).code).toBe(0);
    const again = await staff('admin', 'tokens', 'revoke', org.organizationId, org.tokenId, '--reason', 'again');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`API token ${org.tokenId} was revoked already, at`);

    // and a customer cannot use the staff commands
    const refused = await as(kept.token, 'admin', 'tokens', 'list', org.organizationId);
    expect(refused.code).toBe(3);
  });

  it('tokens revoke-leaked: the secret is read from stdin, the answer names its organisation', async () => {
    // given a leaked secret
    const org = await seedOrganization(prisma, { name: 'cli-found-on-github' });

    // when staff pipe it in
    const revoked = await staffWithStdin(`${org.token}\n`, 'admin', 'tokens', 'revoke-leaked', '--reason', 'secret scanning alert 77', '-o', 'json');

    // then
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: org.tokenId, organization_id: org.organizationId });
    expect((await as(org.token, 'clusters', 'list')).code).toBe(3);

    // and nothing on stdin is a usage error, not a request
    const empty = await staffWithStdin('', 'admin', 'tokens', 'revoke-leaked', '--reason', 'nothing');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('give the leaked secret on stdin');
  });

  it('staff tokens: a leaked capstaff_ secret piped to tokens revoke-leaked is revoked; staff-tokens revoke by id wants an admin', async () => {
    // given two staff tokens, one of which leaked, and an admin
    const leaked = await seedStaff(prisma, 'viewer');
    const other = await seedStaff(prisma, 'viewer');
    const otherTokenId = (await prisma.staffApiToken.findFirstOrThrow({ where: { staffUserId: other.staffUserId } })).id;
    const admin = await seedStaff(prisma, 'admin');
    const status = async (token: string) => (await fetch(`${apiUrl}/admin/v1/organizations`, { headers: { authorization: `Bearer ${token}` } })).status;

    // when the operator pipes the leaked secret in
    const revoked = await staffWithStdin(`${leaked.token}\n`, 'admin', 'tokens', 'revoke-leaked', '--reason', 'found in a CI log', '-o', 'json');

    // then it is revoked, and the answer names whose it was
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ staff_user_id: leaked.staffUserId });
    expect(await status(leaked.token)).toBe(401);

    // and by id the operator is refused (exit 3), the admin is not
    const byOperator = await staff('admin', 'staff-tokens', 'revoke', otherTokenId, '--reason', 'rotating');
    expect(byOperator.code).toBe(3);
    expect(await status(other.token)).toBe(200);
    const byAdmin = await runCapstan({ home, apiUrl, token: admin.token }, [
      'admin',
      'staff-tokens',
      'revoke',
      otherTokenId,
      '--reason',
      'rotating',
      '-o',
      'json',
    ]);
    expect(byAdmin.code).toBe(0);
    expect(JSON.parse(byAdmin.stdout)).toMatchObject({ id: otherTokenId, staff_user_id: other.staffUserId });
    expect(await status(other.token)).toBe(401);
  });

  it('audit: what one organisation changed in the last hour, a page at a time, with the next page announced on stderr', async () => {
    // given three token creations by one customer token
    const org = await seedOrganization(prisma, { name: 'cli-audited' });
    for (const name of ['one', 'two', 'three']) {
      const created = await fetch(`${apiUrl}/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      expect(created.status).toBe(201);
    }
    const expected = await apiGet<{ items: { id: string; action: string; target: { id: string } }[] }>(
      `/admin/v1/audit-events?organization_id=${org.organizationId}&actor_id=${org.tokenId}&limit=100`,
    );
    expect(expected.items).toHaveLength(3);

    // when staff ask for the last hour's, two at a time
    const first = await staff('admin', 'audit', '--organization', org.organizationId, '--actor', org.tokenId, '--since', '1h', '--limit', '2');

    // then the table shows who did what, and says how to get the rest
    expect(first.code).toBe(0);
    const [header, ...page1] = rows(first.stdout);
    expect(header).toEqual(['TIME', 'ORGANIZATION', 'ACTOR', 'ACTION', 'TARGET', 'CHANGED', 'REASON']);
    expect(page1.map((cells) => [cells[2], cells[3], cells[4]])).toEqual(
      expected.items.slice(0, 2).map((e) => [`api_token:${org.tokenId}`, e.action, e.target.id]),
    );
    const cursor = /^more: run again with --cursor (\S+)$/m.exec(first.stderr)?.[1];
    expect(cursor).toBeDefined();
    const second = await staff(
      'admin',
      'audit',
      '--organization',
      org.organizationId,
      '--actor',
      org.tokenId,
      '--since',
      '1h',
      '--limit',
      '2',
      '--cursor',
      cursor!,
    );
    expect(second.code).toBe(0);
    expect(
      rows(second.stdout)
        .slice(1)
        .map((cells) => cells[4]),
    ).toEqual([expected.items[2]!.target.id]);
    expect(second.stderr).not.toContain('more:');

    // and a range in the future finds nothing; a word for a time is a usage error before any request
    const future = await staff('admin', 'audit', '--organization', org.organizationId, '--since', '2999-01-01T00:00:00Z', '-o', 'json');
    expect(JSON.parse(future.stdout).items).toEqual([]);
    const vague = await staff('admin', 'audit', '--since', 'yesterday');
    expect(vague.code).toBe(2);
    expect(vague.stderr).toContain('--since: expected an RFC 3339 instant');
  });

  it('advisories: every affected cluster of every organisation, and an advisory that affects none says so', async () => {
    // given an advisory on old control planes, and one customer's cluster running one
    const db = kyselyOf(prisma);
    await seedFleetCatalogue(db, new Date());
    const org = await seedOrganization(prisma, { name: 'cli-exposed' });
    const exposed = fixtureId('cl');
    await seedRunningCluster(db, { id: exposed, organizationId: org.organizationId, name: 'old-prod', version: '1.33.2' });
    await prisma.advisory.create({
      data: {
        id: 'TEST-old-kubernetes',
        kind: 'retirement',
        component: 'kubernetes',
        title: 'Kubernetes 1.33 and older are past support',
        severity: 'high',
        affected: [{ fixed: '1.34.0' }],
        fixedIn: ['1.34.0'],
        remedy: 'upgrade',
        publishedOn: '2026-12-01',
        sources: ['https://kubernetes.io/releases/'],
        seeded: false,
      },
    });
    const fleet = await apiGet<{ items: { id: string; clusters: { cluster_id: string; organization_id: string; version: string }[] }[] }>(
      '/admin/v1/advisories',
    );
    expect(fleet.items.find((a) => a.id === 'TEST-old-kubernetes')!.clusters).toContainEqual(
      expect.objectContaining({ cluster_id: exposed, organization_id: org.organizationId, version: '1.33.2' }),
    );

    // when staff ask which customers it exposes
    const listed = await staff('admin', 'advisories', '--advisory', 'TEST-old-kubernetes');

    // then one row per affected cluster, as the API answers
    expect(listed.code).toBe(0);
    const [header, ...body] = rows(listed.stdout);
    expect(header).toEqual(['ADVISORY', 'SEVERITY', 'ORGANIZATION', 'CLUSTER', 'NAME', 'COMPONENT', 'FOUND IN', 'FIXED IN']);
    // (FOUND IN: empty for what Capstan installed; the component scan's findings name their workload)
    expect(body).toContainEqual(['TEST-old-kubernetes', 'high', org.organizationId, exposed, 'old-prod', 'kubernetes 1.33.2', '', '1.34.0']);
    expect(body).toHaveLength(fleet.items.find((a) => a.id === 'TEST-old-kubernetes')!.clusters.length);

    // and the ingress-nginx CVE, which no managed stack runs, reads as affecting nobody
    const cve = await staff('admin', 'advisories', '--advisory', 'CVE-2025-1974');
    expect(rows(cve.stdout).slice(1)).toEqual([['CVE-2025-1974', 'critical', '', 'no cluster affected', '', 'ingress-nginx', '', '1.11.5, 1.12.1']]);
    expect((await staff('admin', 'advisories', '--advisory', 'CVE-1999-0001')).code).toBe(4);
  });

  it('alerts: the clusters burning their error budget now, pages first, with the budget used and left', async () => {
    // given a cluster down for the last 40 minutes with a page firing
    const org = await seedOrganization(prisma, { name: 'cli-burning' });
    const id = fixtureId('cl');
    const now = Date.now();
    const since = new Date(now - 2 * 3_600_000);
    await prisma.cluster.create({
      data: {
        id,
        organizationId: org.organizationId,
        name: 'hot',
        liveName: 'hot',
        provider: 'rke2',
        region: 'nine-cz41',
        currentVersion: '1.35.2',
        desiredVersion: '1.35.2',
        status: 'running',
        createdAt: since,
      },
    });
    await prisma.availabilityInterval.createMany({
      data: [
        { clusterId: id, vantage: 'zrh', state: 'up', startedAt: since, endedAt: new Date(now - 40 * 60_000) },
        { clusterId: id, vantage: 'zrh', state: 'down', startedAt: new Date(now - 40 * 60_000), endedAt: new Date(now) },
      ],
    });
    const firingSince = new Date(now - 30 * 60_000);
    await prisma.slaAlert.create({ data: { clusterId: id, organizationId: org.organizationId, severity: 'page', firingSince, updatedAt: new Date() } });

    // when staff ask
    const listed = await staff('admin', 'alerts', '--organization', org.organizationId);

    // then the row is the API's
    expect(listed.code).toBe(0);
    const [header, ...body] = rows(listed.stdout);
    expect(header).toEqual(['SEVERITY', 'FIRING SINCE', 'ORGANIZATION', 'CLUSTER', 'NAME', 'AVAILABILITY %', 'BUDGET USED MIN', 'BUDGET LEFT MIN']);
    const expected = await apiGet<{ items: { availability_percent: number; error_budget: { used_minutes: number; remaining_minutes: number } }[] }>(
      `/admin/v1/sla/alerts?organization_id=${org.organizationId}`,
    );
    expect(expected.items).toHaveLength(1);
    const [alerted] = expected.items;
    expect(body).toEqual([
      [
        'page',
        firingSince.toISOString(),
        org.organizationId,
        id,
        'hot',
        String(alerted!.availability_percent),
        String(alerted!.error_budget.used_minutes),
        String(alerted!.error_budget.remaining_minutes),
      ],
    ]);
    expect(alerted!.error_budget.used_minutes).toBeGreaterThanOrEqual(38);
  });

  it('operations --status running --created-before 1h: the stuck ones, with their organisation', async () => {
    // given one operation running for three hours and one for a minute
    const org = await seedOrganization(prisma, { name: 'cli-stuck' });
    const now = Date.now();
    const ids: string[] = [];
    for (const minutesAgo of [180, 1]) {
      const clusterId = fixtureId('cl');
      const name = `c-${clusterId.slice(-6)}`;
      await prisma.cluster.create({
        data: {
          id: clusterId,
          organizationId: org.organizationId,
          name,
          liveName: name,
          provider: 'rke2',
          region: 'nine-cz41',
          currentVersion: '1.35.2',
          desiredVersion: '1.35.2',
          status: 'updating',
        },
      });
      const id = fixtureId('op');
      const at = new Date(now - minutesAgo * 60_000);
      await prisma.operation.create({
        data: {
          id,
          organizationId: org.organizationId,
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
      ids.push(id);
    }

    // when staff ask for the ones running for more than an hour
    const listed = await staff('admin', 'operations', '--organization', org.organizationId, '--status', 'running', '--created-before', '1h');

    // then only the old one, with its organisation
    expect(listed.code).toBe(0);
    const [header, ...body] = rows(listed.stdout);
    expect(header).toEqual(['ORGANIZATION', 'ID', 'TYPE', 'STATUS', 'PROGRESS', 'CLUSTER', 'CREATED']);
    expect(body.map((cells) => [cells[0], cells[1], cells[3]])).toEqual([[org.organizationId, ids[0], 'running']]);
  });

  it('clusters --version 1.29: the fleet on a minor, each cluster with its organisation', async () => {
    // given a cluster on 1.29 and one on 1.35
    const org = await seedOrganization(prisma, { name: 'cli-old-minor' });
    const ids: Record<string, string> = {};
    for (const version of ['1.29.15', '1.35.2']) {
      const id = fixtureId('cl');
      const name = `v-${id.slice(-8)}`;
      await prisma.cluster.create({
        data: {
          id,
          organizationId: org.organizationId,
          name,
          liveName: name,
          provider: 'rke2',
          region: 'nine-cz41',
          currentVersion: version,
          desiredVersion: version,
          status: 'running',
        },
      });
      ids[version] = id;
    }

    // when staff ask who is on 1.29
    const listed = await staff('admin', 'clusters', '--organization', org.organizationId, '--version', '1.29');

    // then
    expect(listed.code).toBe(0);
    const body = rows(listed.stdout).slice(1);
    expect(body.map((cells) => [cells[0], cells[1], cells[5]])).toEqual([[org.organizationId, ids['1.29.15'], '1.29.15']]);
  });

  it('clusters --support eol: the fleet past end of support, each row with its support and end-of-support day', async () => {
    // given a catalogue where rke2 1.33 ended 30 days ago and 1.35 is supported, and a cluster on each
    await seedFleetCatalogue(kyselyOf(prisma), new Date());
    const org = await seedOrganization(prisma, { name: 'cli-eol' });
    const ids: Record<string, string> = {};
    for (const version of ['1.33.9', '1.35.5']) {
      const id = fixtureId('cl');
      const name = `e-${id.slice(-8)}`;
      await prisma.cluster.create({
        data: {
          id,
          organizationId: org.organizationId,
          name,
          liveName: name,
          provider: 'rke2',
          region: 'nine-cz41',
          currentVersion: version,
          desiredVersion: version,
          status: 'running',
        },
      });
      ids[version] = id;
    }
    const eolDay = (await prisma.kubernetesVersion.findUniqueOrThrow({ where: { provider_minor: { provider: 'rke2', minor: '1.33' } } })).endOfSupportAt
      .toISOString()
      .slice(0, 10);

    // when staff ask which are past end of support
    const listed = await staff('admin', 'clusters', '--organization', org.organizationId, '--support', 'eol');

    // then only the 1.33 one, with the support columns
    expect(listed.code).toBe(0);
    const [header, ...body] = rows(listed.stdout);
    expect(header!.slice(-2)).toEqual(['SUPPORT', 'END OF SUPPORT']);
    expect(body.map((cells) => [cells[1], ...cells.slice(-2)])).toEqual([[ids['1.33.9'], 'eol', eolDay]]);

    // and a word the API does not know is refused before anything is listed
    const bad = await staff('admin', 'clusters', '--support', 'ancient');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/support/);
  });

  describe('a breached month', () => {
    let globex: string;
    let gamma: string;

    beforeAll(async () => {
      // gamma: GKE (99.95%) all November 2026, down two hours on the 14th: a 10% credit
      globex = (await seedOrganization(prisma, { name: 'cli-globex' })).organizationId;
      gamma = fixtureId('cl');
      const at = (iso: string) => new Date(iso);
      await prisma.cluster.create({
        data: {
          id: gamma,
          organizationId: globex,
          name: 'gamma',
          liveName: 'gamma',
          provider: 'gke',
          region: 'europe-west6',
          currentVersion: '1.35.2',
          desiredVersion: '1.35.2',
          status: 'running',
          createdAt: at('2026-09-01T00:00:00Z'),
        },
      });
      await prisma.nodePool.create({
        data: {
          id: fixtureId('np'),
          clusterId: gamma,
          organizationId: globex,
          name: 'default',
          liveName: 'default',
          machineType: 'e2-standard-4',
          nodeCount: 3,
          version: '1.35.2',
          status: 'running',
          createdAt: at('2026-09-01T00:00:00Z'),
        },
      });
      await prisma.operation.create({
        data: {
          id: fixtureId('op'),
          organizationId: globex,
          clusterId: gamma,
          type: 'create_cluster',
          status: 'succeeded',
          targetType: 'cluster',
          targetId: gamma,
          params: {},
          requestedByType: 'api_token',
          requestedById: 'tok_seed',
          startedAt: at('2026-09-01T00:00:00Z'),
          finishedAt: at('2026-09-01T00:00:00Z'),
        },
      });
      await prisma.availabilityInterval.createMany({
        data: [
          { clusterId: gamma, vantage: 'zrh', state: 'up', startedAt: at('2026-09-01T00:00:00Z'), endedAt: at('2026-11-14T10:00:00Z') },
          { clusterId: gamma, vantage: 'zrh', state: 'down', startedAt: at('2026-11-14T10:00:00Z'), endedAt: at('2026-11-14T12:00:00Z') },
          { clusterId: gamma, vantage: 'zrh', state: 'up', startedAt: at('2026-11-14T12:00:00Z'), endedAt: at('2026-12-01T00:00:00Z') },
        ],
      });
    });

    it('breaches: one row per breached cluster with its organisation, availability, downtime and credit tier', async () => {
      const listed = await staff('admin', 'breaches', '--month', '2026-11');
      expect(listed.code).toBe(0);
      const [header, ...body] = rows(listed.stdout);
      expect(header).toEqual(['ORGANIZATION', 'CLUSTER', 'NAME', 'PROVIDER', 'TARGET %', 'AVAILABILITY %', 'DOWN MIN', 'CREDIT %', 'FINAL']);
      const breaches = await apiGet<{ items: { cluster_id: string; availability_percent: number; counted_downtime_minutes: number }[] }>(
        '/admin/v1/sla/breaches?month=2026-11',
      );
      expect(breaches.items.map((b) => b.cluster_id)).toEqual([gamma]);
      expect(body).toEqual([[globex, gamma, 'gamma', 'gke', '99.95', String(breaches.items[0]!.availability_percent), '120', '10', 'true']]);
    });

    it('credits: the table shows the minutes and charges behind each credit, --csv prints the export billing loads', async () => {
      const expected = await apiGet<{ items: { charges_cents: number; credit_amount_cents: number }[] }>('/admin/v1/billing/credits?month=2026-11');
      expect(expected.items).toHaveLength(1);
      const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')} CHF`;

      const listed = await staff('admin', 'credits', '--month', '2026-11');
      expect(listed.code).toBe(0);
      const [header, ...body] = rows(listed.stdout);
      expect(header).toEqual(['ORGANIZATION', 'CLUSTER', 'NAME', 'AVAILABILITY %', 'DOWN MIN', 'CREDIT %', 'CHARGES', 'CREDIT', 'FINAL']);
      expect(body).toHaveLength(1);
      expect(body[0]!.slice(0, 3)).toEqual([globex, gamma, 'gamma']);
      expect(body[0]!.slice(4)).toEqual(['120', '10', money(expected.items[0]!.charges_cents), money(expected.items[0]!.credit_amount_cents), 'true']);

      const csv = await staff('admin', 'credits', '--month', '2026-11', '--csv');
      expect(csv.code).toBe(0);
      expect(csv.stdout).toBe(await apiGet<string>('/admin/v1/billing/credits?month=2026-11', operatorToken, 'text/csv'));
      expect(csv.stdout.split('\r\n')[0]).toMatch(/^organization_id,cluster_id,/);

      const own = await staff('admin', 'credits', '--month', '2026-11', '--organization', globex);
      expect(own.code).toBe(0);
      expect(rows(own.stdout).slice(1)).toEqual(body);
      const other = await staff('admin', 'credits', '--month', '2026-11', '--organization', 'org_00000000000000000000000000', '-o', 'json');
      expect(other.code).toBe(0);
      expect(JSON.parse(other.stdout)).toEqual({ month: '2026-11', items: [] });

      const future = await staff('admin', 'credits', '--month', '2999-01');
      expect(future.code).toBe(1);
    });
  });
});
