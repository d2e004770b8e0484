import { monthRange } from '../sla/availability';
import { type ClusterMeteringFacts, meterCluster } from './metering';
import { invoiceLines, invoiceTotals, type InvoiceCluster } from './invoice';
import { Money, toCents } from './money';
import { ADDON_CATALOGUE_SEED } from '../addons/addon-catalogue';
import { type PriceEntry, seededPrices } from './price-catalogue';

const at = (iso: string) => new Date(iso);
const ORG = 'org_1';
const cluster: InvoiceCluster = { id: 'cl_1', organizationId: ORG, name: 'alpha', provider: 'rke2', region: 'nine-cz41' };
const clusters = new Map([[cluster.id, cluster]]);
const price = (kind: PriceEntry['kind'], sku: string, unitPrice: string, from = '2026-01-01T00:00:00Z'): PriceEntry => ({
  kind,
  sku,
  unitPrice,
  currency: 'CHF',
  effectiveFrom: at(from),
});
const PRICES = [price('cluster_fee', 'rke2', '0.08'), price('node', 'nine-standard-4', '0.2'), price('node', 'nine-standard-8', '0.4')];

function facts(overrides: Partial<ClusterMeteringFacts> = {}): ClusterMeteringFacts {
  return { id: cluster.id, organizationId: ORG, provider: 'rke2', runningFrom: null, endedAt: null, pools: [], addons: [], backups: [], ...overrides };
}

function invoice(month: string, f: ClusterMeteringFacts, options: { prices?: PriceEntry[]; credits?: [string, number][]; asOf?: string } = {}) {
  const range = monthRange(month);
  return invoiceLines({
    range,
    asOf: options.asOf ? at(options.asOf) : range.end,
    intervals: meterCluster(f),
    prices: options.prices ?? PRICES,
    clusters,
    creditPercents: new Map(options.credits ?? []),
  });
}

describe('billing a month from usage intervals', () => {
  it('bills a cluster created mid-month, scaled twice and deleted before month end for exactly the node-seconds it ran per machine type', () => {
    // Running from Nov 10 08:00:00; pool a (standard-4) 3 nodes, scaled to 5 at Nov 12 10:00:30 and to 2 at Nov 20 00:00:00;
    // pool b (standard-8) 1 node added Nov 15 12:00:00; deleted Nov 25 06:30:15.
    const lines = invoice(
      '2026-11',
      facts({
        runningFrom: at('2026-11-10T08:00:00Z'),
        endedAt: at('2026-11-25T06:30:15Z'),
        pools: [
          {
            id: 'np_a',
            machineType: 'nine-standard-4',
            startedAt: at('2026-11-10T08:00:00Z'),
            endedAt: at('2026-11-25T06:30:15Z'),
            nodeCount: 2,
            resizes: [
              { at: at('2026-11-12T10:00:30Z'), previousNodeCount: 3 },
              { at: at('2026-11-20T00:00:00Z'), previousNodeCount: 5 },
            ],
          },
          { id: 'np_b', machineType: 'nine-standard-8', startedAt: at('2026-11-15T12:00:00Z'), endedAt: null, nodeCount: 1, resizes: [] },
        ],
      }),
    );
    const seconds = (a: string, b: string) => (at(b).getTime() - at(a).getTime()) / 1000;
    const standard4 =
      3 * seconds('2026-11-10T08:00:00Z', '2026-11-12T10:00:30Z') +
      5 * seconds('2026-11-12T10:00:30Z', '2026-11-20T00:00:00Z') +
      2 * seconds('2026-11-20T00:00:00Z', '2026-11-25T06:30:15Z');
    const standard8 = 1 * seconds('2026-11-15T12:00:00Z', '2026-11-25T06:30:15Z');
    const lifetime = seconds('2026-11-10T08:00:00Z', '2026-11-25T06:30:15Z');

    expect(lines.map((l) => [l.kind, l.sku, l.quantity])).toEqual([
      ['cluster_fee', 'rke2', new Money(lifetime).dividedBy(3600).toDecimalPlaces(6).toFixed()],
      ['node', 'nine-standard-4', new Money(standard4).dividedBy(3600).toDecimalPlaces(6).toFixed()],
      ['node', 'nine-standard-8', new Money(standard8).dividedBy(3600).toDecimalPlaces(6).toFixed()],
    ]);
    expect(lines[1]!.amountCents).toBe(toCents(new Money(standard4).dividedBy(3600).times('0.2')));
    expect(lines[2]!.amountCents).toBe(toCents(new Money(standard8).dividedBy(3600).times('0.4')));
    // By hand: 3 × 180,030 s + 5 × 655,170 s + 2 × 455,415 s = 4,726,770 node-seconds = 1,312.991667 node-hours
    // × 0.2 = 262.598333 -> 262.60; 844,215 s of standard-8 = 234.504167 h × 0.4 = 93.8016... -> 93.80.
    expect(standard4).toBe(4_726_770);
    expect(standard8).toBe(844_215);
    expect(lines.map((l) => l.amountCents)).toEqual([toCents(new Money(lifetime).dividedBy(3600).times('0.08')), 26_260, 9_380]);
    expect(lines[2]!.periodEnd).toEqual(at('2026-11-25T06:30:15Z'));
  });

  it('splits a line at the instant a price changes inside the month', () => {
    const prices = [...PRICES, price('node', 'nine-standard-4', '0.3', '2026-11-16T12:00:00Z')];
    const lines = invoice(
      '2026-11',
      facts({
        runningFrom: at('2026-10-01T00:00:00Z'),
        pools: [{ id: 'np_a', machineType: 'nine-standard-4', startedAt: at('2026-10-01T00:00:00Z'), endedAt: null, nodeCount: 2, resizes: [] }],
      }),
      { prices },
    );
    const nodes = lines.filter((l) => l.kind === 'node');
    expect(nodes.map((l) => ({ quantity: l.quantity, unitPrice: l.unitPrice, amountCents: l.amountCents, from: l.periodStart, to: l.periodEnd }))).toEqual([
      // 15.5 days × 24 h × 2 nodes = 744 node-hours at 0.2, then 14.5 days = 696 at 0.3.
      { quantity: '744', unitPrice: '0.2', amountCents: 14_880, from: at('2026-11-01T00:00:00Z'), to: at('2026-11-16T12:00:00Z') },
      { quantity: '696', unitPrice: '0.3', amountCents: 20_880, from: at('2026-11-16T12:00:00Z'), to: at('2026-12-01T00:00:00Z') },
    ]);
  });

  it.each([
    ['2026-02', 28],
    ['2028-02', 29],
    ['2026-04', 30],
    ['2026-12', 31],
  ])('bills %s, a month of %i days in UTC, for exactly its hours', (month, days) => {
    // Running since long before and long after: only the month's own hours count.
    const lines = invoice(month, facts({ runningFrom: at('2025-06-01T00:00:00Z') }), { prices: PRICES });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ kind: 'cluster_fee', quantity: String(days * 24), amountCents: days * 24 * 8 });
    expect(lines[0]!.periodStart).toEqual(monthRange(month).start);
    expect(lines[0]!.periodEnd).toEqual(monthRange(month).end);
  });

  it("credits a breached cluster its percentage of all of the month's charges as a negative line", () => {
    const lines = invoice(
      '2026-11',
      facts({
        runningFrom: at('2026-10-01T00:00:00Z'),
        pools: [{ id: 'np_a', machineType: 'nine-standard-4', startedAt: at('2026-10-01T00:00:00Z'), endedAt: null, nodeCount: 3, resizes: [] }],
        backups: [{ id: 'bk_1', sizeBytes: 10n * 1024n ** 3n, startedAt: at('2026-11-16T00:00:00Z'), endedAt: null }],
      }),
      { prices: [...PRICES, price('backup_storage', 'backup', '0.025')], credits: [[cluster.id, 10]] },
    );
    // 720 h × 0.08 = 57.60; 2160 node-hours × 0.2 = 432.00; 10 GiB for half of November = 5 GiB-months × 0.025 = 0.125 -> 0.13.
    expect(lines.map((l) => [l.kind, l.amountCents])).toEqual([
      ['cluster_fee', 5_760],
      ['node', 43_200],
      ['backup_storage', 13],
      ['sla_credit', -4_897], // 10% of 489.73 = 48.973 -> 48.97
    ]);
    expect(lines[3]).toMatchObject({ category: 'credit', quantity: '489.73', unitPrice: '-0.1' });
    expect(invoiceTotals(lines)).toEqual({ chargesCents: 48_973, creditsCents: -4_897, totalCents: 44_076 });
  });

  it('rounds once per line, half a cent away from zero, never per interval', () => {
    // 3 intervals of 1 node for 1 hour each at 0.005/h: 0.015 -> 2 cents once, not 3 × round(0.5 cent).
    const lines = invoiceLines({
      range: monthRange('2026-11'),
      asOf: monthRange('2026-11').end,
      intervals: ['01', '02', '03'].map((d) => ({
        organizationId: ORG,
        clusterId: cluster.id,
        kind: 'node' as const,
        resourceId: `np_${d}`,
        sku: 'tiny',
        quantity: '1',
        start: at(`2026-11-${d}T00:00:00Z`),
        end: at(`2026-11-${d}T01:00:00Z`),
      })),
      prices: [price('node', 'tiny', '0.005')],
      clusters,
      creditPercents: new Map(),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ quantity: '3', amountCents: 2 });
  });

  it('counts the running month only up to now, and a projection to its end', () => {
    const f = facts({ runningFrom: at('2026-10-01T00:00:00Z') });
    expect(invoice('2026-11', f, { asOf: '2026-11-11T00:00:00Z' })[0]).toMatchObject({ quantity: '240', amountCents: 1_920 });
    expect(invoice('2026-11', f)[0]).toMatchObject({ quantity: '720', amountCents: 5_760 });
  });

  it('refuses usage with no price in effect rather than billing it at 0', () => {
    expect(() =>
      invoice('2026-11', facts({ runningFrom: at('2026-11-02T00:00:00Z') }), { prices: [price('cluster_fee', 'rke2', '0.08', '2026-11-05T00:00:00Z')] }),
    ).toThrow(/cluster_fee rke2 used by cluster cl_1 has no price in effect at 2026-11-02T00:00:00.000Z/);
  });

  it('bills nothing for a cluster whose creation never succeeded', () => {
    expect(
      meterCluster(facts({ runningFrom: null, pools: [{ id: 'np', machineType: 'x', startedAt: null, endedAt: null, nodeCount: 3, resizes: [] }] })),
    ).toEqual([]);
  });

  it('prices every optional add-on of the catalogue from the seed, so enabling one leaves usage and invoices computable', () => {
    const optional = ADDON_CATALOGUE_SEED.releases.filter((r) => r.tier === 'optional').map((r) => r.name);
    expect(optional.length).toBeGreaterThan(0);
    for (const name of new Set(optional)) {
      // Installed for exactly 10 hours of November on a cluster running all month.
      const lines = invoice(
        '2026-11',
        facts({
          runningFrom: at('2026-11-01T00:00:00Z'),
          addons: [{ name, startedAt: at('2026-11-02T00:00:00Z'), endedAt: at('2026-11-02T10:00:00Z') }],
        }),
        { prices: seededPrices() },
      );
      const addon = lines.find((l) => l.kind === 'addon');
      expect(addon).toMatchObject({ sku: name, unitPrice: '0.02' });
      expect(addon?.amountCents).toBe(20);
    }
  });

  it('seeds node prices from the machine types: monthly list price over 730 hours', () => {
    const seeded = seededPrices().find((p) => p.kind === 'node' && p.sku === 'nine-standard-4');
    expect(seeded).toMatchObject({ unitPrice: '0.164384', currency: 'CHF' }); // 120.00 / 730
  });
});
