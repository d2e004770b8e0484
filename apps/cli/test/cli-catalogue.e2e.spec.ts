import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedOrganization, type Stack, startStack } from '@capstan/testing';
import { assertCliBuilt, runCapstan } from './cli-process';
import { parse } from 'yaml';

interface Version {
  provider: string;
  minor: string;
  latest_patch: string;
  state: string;
  end_of_support_at: string;
  channels: string[];
}
interface MachineType {
  id: string;
  provider: string;
  vcpus: number;
  memory_gib: number;
  monthly_price_cents: number;
}

/**
 * The catalogue commands (docs/cli.md): `capstan versions`, `capstan machine-types` and
 * `capstan regions`, run as processes against the real API. The tables are checked against what
 * the API itself answers, so the test follows the seeded catalogue rather than copying it.
 */
describe('the capstan CLI: the catalogue', () => {
  let stack: Stack;
  let token: string;
  let home: string;

  beforeAll(async () => {
    assertCliBuilt();
    stack = await startStack();
    token = (await seedOrganization(stack.prisma)).token;
    home = mkdtempSync(join(tmpdir(), 'capstan-cli-'));
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const capstan = (...args: string[]) => runCapstan({ home, apiUrl: stack.apiUrl, token }, args);

  async function api<T>(path: string): Promise<T[]> {
    const response = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: T[] }).items;
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

  it('versions: one row per minor with its latest patch, state, end of support and channels', async () => {
    const expected = await api<Version>('/v1/versions?provider=gke');
    expect(expected.length).toBeGreaterThan(0);

    const listed = await capstan('versions', '--provider', 'gke');
    expect(listed.code).toBe(0);
    const [header, ...body] = rows(listed.stdout);
    expect(header).toEqual(['PROVIDER', 'MINOR', 'LATEST PATCH', 'STATE', 'DEFAULT', 'END OF SUPPORT', 'CHANNELS']);
    expect(body).toHaveLength(expected.length);
    for (const version of expected) {
      const row = body.find((cells) => cells[1] === version.minor)!;
      expect(row).toBeDefined();
      expect(row[0]).toBe('gke');
      expect(row).toEqual(expect.arrayContaining([version.latest_patch, version.state, version.end_of_support_at]));
      if (version.channels.length > 0) expect(row[row.length - 1]).toBe(version.channels.join(','));
    }
  }, 60_000);

  it('versions -o json prints what the API answered; without --provider both providers are listed', async () => {
    const listed = await capstan('-o', 'json', 'versions');
    expect(listed.code).toBe(0);
    const items = (JSON.parse(listed.stdout) as { items: Version[] }).items;
    expect(items).toEqual(await api<Version>('/v1/versions'));
    expect(new Set(items.map((v) => v.provider))).toEqual(new Set(['rke2', 'gke']));
  }, 60_000);

  it('machine-types: a table of one provider, and the same list as YAML', async () => {
    const expected = await api<MachineType>('/v1/machine-types?provider=rke2');
    expect(expected.length).toBeGreaterThan(0);

    const listed = await capstan('machine-types', '--provider', 'rke2');
    expect(listed.code).toBe(0);
    const [header, ...body] = rows(listed.stdout);
    expect(header).toEqual(['ID', 'PROVIDER', 'VCPUS', 'MEMORY GIB', 'CENTS/MONTH']);
    expect(body).toEqual(expected.map((m) => [m.id, 'rke2', String(m.vcpus), String(m.memory_gib), String(m.monthly_price_cents)]));

    const yaml = await capstan('machine-types', '--provider', 'rke2', '-o', 'yaml');
    expect(yaml.code).toBe(0);
    expect((parse(yaml.stdout) as { items: MachineType[] }).items).toEqual(expected);
  }, 60_000);

  it('regions: shows whether data residency allows each one', async () => {
    const expected = await api<{ id: string; allowed: boolean }>('/v1/regions');
    const listed = await capstan('regions');
    expect(listed.code).toBe(0);
    const [header, ...body] = rows(listed.stdout);
    expect(header).toEqual(['ID', 'PROVIDER', 'NAME', 'COUNTRY', 'ALLOWED']);
    expect(body.map((cells) => [cells[0], cells[cells.length - 1]])).toEqual(expected.map((r) => [r.id, r.allowed ? 'yes' : 'no']));
  }, 60_000);

  it.each([['versions'], ['machine-types'], ['regions']])(
    '%s --provider aws is a usage error naming the choices (exit 2)',
    async (command) => {
      const refused = await capstan(command, '--provider', 'aws');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('rke2');
      expect(refused.stderr).toContain('gke');
    },
    60_000,
  );
});
