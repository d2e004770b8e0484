import fc from 'fast-check';
import { UnprocessableError, ValidationError } from '../errors/domain-error';
import {
  compareMinors,
  defaultVersionFor,
  listVersions,
  parseMinor,
  parseVersionCatalogue,
  resolveVersionForCreate,
  VERSION_CATALOGUE,
  VersionCatalogueEntry,
  versionState,
} from './kubernetes-versions';
import rawCatalogue from './kubernetes-versions.seed.json';
import { caught } from '../test/thrown';

/** Rules are tested against this fixture, so staff updating the real catalogue never breaks them. */
const NOW = new Date('2026-12-01T12:00:00Z');
const src = { releasedAt: 'test', maintenanceAt: 'test', standardSupportEndsAt: 'test', endOfSupportAt: 'test', latestPatch: 'test' };
const FIXTURE: VersionCatalogueEntry[] = [
  // 1.9 and 1.10 sit side by side so a string sort would get the order wrong.
  {
    provider: 'gke',
    minor: '1.9',
    latestPatch: '1.9.3-gke.200',
    releasedAt: '2026-01-01',
    maintenanceAt: null,
    standardSupportEndsAt: '2027-04-01',
    endOfSupportAt: '2027-06-01',
    sources: src,
  },
  {
    provider: 'gke',
    minor: '1.10',
    latestPatch: '1.10.1-gke.100',
    releasedAt: '2026-10-01',
    maintenanceAt: null,
    standardSupportEndsAt: '2027-11-01',
    endOfSupportAt: '2028-01-01',
    preview: true,
    sources: src,
  },
  // past its end of standard support on NOW, before its end of life: deprecated.
  {
    provider: 'gke',
    minor: '1.8',
    latestPatch: '1.8.7-gke.300',
    releasedAt: '2025-06-01',
    maintenanceAt: null,
    standardSupportEndsAt: '2026-11-01',
    endOfSupportAt: '2027-01-10',
    sources: src,
  },
  {
    provider: 'gke',
    minor: '1.7',
    latestPatch: '1.7.9-gke.400',
    releasedAt: '2025-01-01',
    maintenanceAt: null,
    standardSupportEndsAt: '2026-04-01',
    endOfSupportAt: '2026-06-01',
    sources: src,
  },
  {
    provider: 'rke2',
    minor: '1.9',
    latestPatch: '1.9.4',
    releasedAt: '2026-01-01',
    maintenanceAt: '2026-12-28',
    standardSupportEndsAt: null,
    endOfSupportAt: '2027-02-28',
    sources: src,
  },
  // in upstream maintenance mode on NOW.
  {
    provider: 'rke2',
    minor: '1.8',
    latestPatch: '1.8.6',
    releasedAt: '2025-06-01',
    maintenanceAt: '2026-11-28',
    standardSupportEndsAt: null,
    endOfSupportAt: '2027-01-28',
    sources: src,
  },
];

describe('versionState', () => {
  const upstream = { maintenanceAt: '2026-12-28', standardSupportEndsAt: null, endOfSupportAt: '2027-02-28' };

  it('is eol from the first instant of the end-of-support day (UTC)', () => {
    // given a version whose end of support is 2027-02-28
    // when / then
    expect(versionState(upstream, new Date('2027-02-27T23:59:59.999Z'))).toBe('maintenance');
    expect(versionState(upstream, new Date('2027-02-28T00:00:00.000Z'))).toBe('eol');
    expect(versionState(upstream, new Date('2030-01-01T00:00:00Z'))).toBe('eol');
  });

  it('is in maintenance from the day upstream puts the minor in maintenance mode', () => {
    expect(versionState(upstream, new Date('2026-12-27T23:59:59Z'))).toBe('supported');
    expect(versionState(upstream, new Date('2026-12-28T00:00:00Z'))).toBe('maintenance');
  });

  it("is deprecated from the provider's end of standard support (GKE), not before", () => {
    // given a GKE minor ending standard support on 2027-02-28 and support on 2027-04-11
    const gke = { maintenanceAt: null, standardSupportEndsAt: '2027-02-28', endOfSupportAt: '2027-04-11' };
    // then it is supported the day before, deprecated from that day, eol on its end of support
    expect(versionState(gke, new Date('2027-02-27T23:59:59Z'))).toBe('supported');
    expect(versionState(gke, new Date('2027-02-28T00:00:00Z'))).toBe('deprecated');
    expect(versionState(gke, new Date('2027-04-11T00:00:00Z'))).toBe('eol');
  });

  it('is preview only while flagged and before any other date', () => {
    const preview = { maintenanceAt: null, standardSupportEndsAt: '2027-11-01', endOfSupportAt: '2028-01-01', preview: true };
    expect(versionState(preview, NOW)).toBe('preview');
    expect(versionState(preview, new Date('2027-12-01T00:00:00Z'))).toBe('deprecated');
    expect(versionState(preview, new Date('2028-01-01T00:00:00Z'))).toBe('eol');
  });

  it('accepts the Date values a date column returns', () => {
    const row = { maintenanceAt: new Date('2026-12-28T00:00:00Z'), standardSupportEndsAt: null, endOfSupportAt: new Date('2027-02-28T00:00:00Z') };
    expect(versionState(row, new Date('2026-12-28T08:00:00Z'))).toBe('maintenance');
  });

  it('never moves backwards as time passes (supported/preview, maintenance, deprecated, eol)', () => {
    const rank = { preview: 0, supported: 0, maintenance: 1, deprecated: 2, eol: 3 } as const;
    const day = fc.integer({ min: 0, max: 4000 }).map((n) => new Date(Date.UTC(2024, 0, 1) + n * 86_400_000));
    fc.assert(
      fc.property(
        day,
        fc.option(day, { nil: null }),
        fc.option(day, { nil: null }),
        fc.boolean(),
        day,
        day,
        (eos, maintenance, standardEnd, preview, t1, t2) => {
          // the catalogue's own check keeps maintenance before the end of standard support where both exist
          fc.pre(maintenance === null || standardEnd === null || maintenance <= standardEnd);
          const entry = { endOfSupportAt: eos, maintenanceAt: maintenance, standardSupportEndsAt: standardEnd, preview };
          const [early, late] = t1 <= t2 ? [t1, t2] : [t2, t1];
          expect(rank[versionState(entry, early)]).toBeLessThanOrEqual(rank[versionState(entry, late)]);
        },
      ),
    );
  });
});

describe('parseMinor and compareMinors', () => {
  it('reads minors, patches, a leading v and provider suffixes', () => {
    expect(parseMinor('1.35')).toEqual({ major: 1, minor: 35 });
    expect(parseMinor('1.35.4')).toEqual({ major: 1, minor: 35 });
    expect(parseMinor('v1.35.4')).toEqual({ major: 1, minor: 35 });
    expect(parseMinor('1.35.4-gke.1200')).toEqual({ major: 1, minor: 35 });
  });

  it.each(['', '1', 'latest', '1.35.x', '01.35', '1.35-gke.1', ' 1.35'])('refuses %j as a version', (text) => {
    const error = caught(() => parseMinor(text));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations[0].field).toBe('version');
  });

  it('compares minors numerically, so 1.10 is newer than 1.9', () => {
    expect(compareMinors('1.10', '1.9')).toBeGreaterThan(0);
    expect(compareMinors('1.9', '1.10')).toBeLessThan(0);
    expect(compareMinors('2.0', '1.99')).toBeGreaterThan(0);
  });

  it('ignores patches when comparing minors', () => {
    expect(compareMinors('1.35.4-gke.1200', '1.35')).toBe(0);
  });

  it('orders minors exactly as their (major, minor) numbers', () => {
    const part = fc.integer({ min: 0, max: 200 });
    fc.assert(
      fc.property(part, part, part, part, (a1, a2, b1, b2) => {
        const expected = Math.sign(a1 - b1 || a2 - b2);
        expect(Math.sign(compareMinors(`${a1}.${a2}`, `${b1}.${b2}`))).toBe(expected);
        expect(Math.sign(compareMinors(`${b1}.${b2}`, `${a1}.${a2}`))).toBe(0 - expected);
      }),
    );
  });
});

describe('listVersions', () => {
  it('sorts by provider, then newest minor first, numerically', () => {
    // when
    const listed = listVersions(NOW, undefined, FIXTURE).map((v) => `${v.provider} ${v.minor}`);
    // then
    expect(listed).toEqual(['gke 1.10', 'gke 1.9', 'gke 1.8', 'gke 1.7', 'rke2 1.9', 'rke2 1.8']);
  });

  it('gives each version its state on the day asked about', () => {
    const states = Object.fromEntries(listVersions(NOW, 'gke', FIXTURE).map((v) => [v.minor, v.state]));
    expect(states).toEqual({ '1.10': 'preview', '1.9': 'supported', '1.8': 'deprecated', '1.7': 'eol' });
    expect(listVersions(NOW, 'rke2', FIXTURE).map((v) => v.state)).toEqual(['supported', 'maintenance']);
  });

  it('lists only the provider asked for', () => {
    expect(listVersions(NOW, 'rke2', FIXTURE).every((v) => v.provider === 'rke2')).toBe(true);
  });
});

describe('resolveVersionForCreate', () => {
  it('defaults to the newest supported minor, skipping a preview', () => {
    // given gke offers 1.10 as a preview and 1.9 as supported
    // when no version is asked for
    const resolved = resolveVersionForCreate('gke', undefined, NOW, FIXTURE);
    // then
    expect(resolved).toEqual({ minor: '1.9', patch: '1.9.3-gke.200', warnings: [] });
  });

  it('prefers the minor staff set as default while it is supported', () => {
    const withDefault = FIXTURE.map((e) => (e.provider === 'rke2' && e.minor === '1.8' ? { ...e, defaultForNew: true } : e));
    // 1.8 is in maintenance mode on NOW, so the newest supported minor is chosen instead
    expect(defaultVersionFor('rke2', NOW, withDefault)?.minor).toBe('1.9');
    // before its maintenance mode, staff's choice wins over the newest
    expect(defaultVersionFor('rke2', new Date('2026-06-01T00:00:00Z'), withDefault)?.minor).toBe('1.8');
  });

  it('treats a blank version like no version', () => {
    expect(resolveVersionForCreate('gke', '  ', NOW, FIXTURE).minor).toBe('1.9');
  });

  it('creates on a preview when asked for explicitly, with a warning', () => {
    const resolved = resolveVersionForCreate('gke', '1.10', NOW, FIXTURE);
    expect(resolved.minor).toBe('1.10');
    expect(resolved.patch).toBe('1.10.1-gke.100');
    expect(resolved.warnings).toEqual([expect.stringContaining('preview')]);
  });

  it.each(['1.9', '1.9.3-gke.200', 'v1.9', ' 1.9 '])('accepts %j for the minor or its latest patch', (requested) => {
    expect(resolveVersionForCreate('gke', requested, NOW, FIXTURE)).toEqual({ minor: '1.9', patch: '1.9.3-gke.200', warnings: [] });
  });

  it('deprecated version creates with a warning naming the EOL date', () => {
    // given gke 1.8 ended standard support on 2026-11-01 and ends support on 2027-01-10
    // when
    const resolved = resolveVersionForCreate('gke', '1.8', NOW, FIXTURE);
    // then
    expect(resolved).toEqual({
      minor: '1.8',
      patch: '1.8.7-gke.300',
      warnings: ['Kubernetes 1.8 is deprecated for gke since 2026-11-01, and it reaches end of life on 2027-01-10; plan an upgrade before then'],
    });
  });

  it('a version in upstream maintenance mode also warns (RKE2)', () => {
    const resolved = resolveVersionForCreate('rke2', '1.8.6', NOW, FIXTURE);
    expect(resolved.warnings).toEqual([expect.stringMatching(/maintenance mode since 2026-11-28 .* end of life on 2027-01-28/)]);
  });

  it('refuses an EOL version, naming its EOL date and the offered minors', () => {
    // when
    const error = caught(() => resolveVersionForCreate('gke', '1.7', NOW, FIXTURE));
    // then
    expect(error).toBeInstanceOf(UnprocessableError);
    expect(error.type).toBe('version-end-of-life');
    expect(error.detail).toBe(
      'Kubernetes 1.7 reached end of life for gke on 2026-06-01 and cannot be used for new clusters; offered versions are 1.10 (preview), 1.9, 1.8 (deprecated)',
    );
    expect(error.extensions).toMatchObject({ end_of_support_at: '2026-06-01', offered: ['1.10', '1.9', '1.8'] });
  });

  it('refuses any patch of an EOL minor as end of life', () => {
    expect(caught(() => resolveVersionForCreate('gke', '1.7.2', NOW, FIXTURE)).type).toBe('version-end-of-life');
  });

  it('refuses an unknown version, naming the offered minors', () => {
    const error = caught(() => resolveVersionForCreate('rke2', '1.99', NOW, FIXTURE));
    expect(error.type).toBe('version-not-offered');
    expect(error.kind).toBe('unprocessable');
    expect(error.detail).toBe('Kubernetes 1.99 is not offered for rke2; offered versions are 1.9, 1.8 (maintenance)');
  });

  it('refuses text that is no version at all as not offered', () => {
    expect(caught(() => resolveVersionForCreate('rke2', 'latest', NOW, FIXTURE)).type).toBe('version-not-offered');
  });

  it('refuses an older patch, pointing at the latest patch of that minor', () => {
    const error = caught(() => resolveVersionForCreate('gke', '1.9.2', NOW, FIXTURE));
    expect(error.type).toBe('version-not-offered');
    expect(error.detail).toBe('Kubernetes 1.9.2 is not offered for gke: only the latest patch of 1.9, 1.9.3-gke.200, is; ask for "1.9" or "1.9.3-gke.200"');
  });

  it("takes GKE's alias of the latest patch (1.9.3 for 1.9.3-gke.200), as the GKE API does", () => {
    expect(resolveVersionForCreate('gke', '1.9.3', NOW, FIXTURE)).toMatchObject({ minor: '1.9', patch: '1.9.3-gke.200' });
  });

  it('refuses to pick a default when no version is generally supported', () => {
    const onlyPreview = FIXTURE.filter((e) => e.provider === 'gke' && e.minor === '1.10');
    const error = caught(() => resolveVersionForCreate('gke', undefined, NOW, onlyPreview));
    expect(error.type).toBe('version-not-offered');
    expect(error.detail).toContain('1.10 (preview)');
  });
});

describe('the shipped catalogue', () => {
  it('passes its own checks', () => {
    expect(() => parseVersionCatalogue(rawCatalogue)).not.toThrow();
    expect(VERSION_CATALOGUE.entries.length).toBeGreaterThan(0);
  });

  it('carries the upstream dates of kubernetes.io/releases for RKE2, 1.37 included', () => {
    const rke2 = Object.fromEntries(
      VERSION_CATALOGUE.entries.filter((e) => e.provider === 'rke2').map((e) => [e.minor, [e.releasedAt, e.maintenanceAt, e.endOfSupportAt]]),
    );
    expect(rke2).toMatchObject({
      '1.37': ['2026-08-26', '2027-08-28', '2027-10-28'],
      '1.36': ['2026-04-22', '2027-04-28', '2027-06-28'],
      '1.35': ['2025-12-17', '2026-12-28', '2027-02-28'],
      '1.34': ['2025-08-27', '2026-08-27', '2026-10-27'],
      '1.33': ['2025-04-23', '2026-04-28', '2026-06-28'],
    });
  });

  it("carries GKE's own dates: end of standard support, end of support, no maintenance mode", () => {
    const gke = VERSION_CATALOGUE.entries.filter((e) => e.provider === 'gke');
    expect(Object.fromEntries(gke.map((e) => [e.minor, [e.standardSupportEndsAt, e.endOfSupportAt]]))).toMatchObject({
      '1.33': ['2026-06-30', '2026-08-03'],
      '1.34': ['2026-08-30', '2026-10-01'],
      '1.35': ['2027-02-28', '2027-04-11'],
    });
    expect(gke.every((e) => e.maintenanceAt === null)).toBe(true);
  });

  it('names a source for every date of every entry', () => {
    for (const e of VERSION_CATALOGUE.entries) {
      expect(e.sources.releasedAt).toBeTruthy();
      expect(e.sources.endOfSupportAt).toBeTruthy();
      if (e.maintenanceAt) expect(e.sources.maintenanceAt).toBeTruthy();
      if (e.standardSupportEndsAt) expect(e.sources.standardSupportEndsAt).toBeTruthy();
    }
  });

  it('is current on 2026-12-04: every upstream minor released by then is listed for RKE2', () => {
    const day = new Date('2026-12-04T12:00:00Z');
    const states = Object.fromEntries(listVersions(day, 'rke2', VERSION_CATALOGUE.entries).map((v) => [v.minor, v.state]));
    // 1.37 is a preview until the managed add-ons are qualified on it (its sources.preview says so)
    expect(states).toMatchObject({ '1.37': 'preview', '1.36': 'supported', '1.35': 'supported', '1.34': 'eol' });
    expect(defaultVersionFor('rke2', day, VERSION_CATALOGUE.entries)?.minor).toBe('1.36');
    // GKE had not released 1.37 by then (docs/upgrades.md), so its newest is 1.36
    expect(defaultVersionFor('gke', day, VERSION_CATALOGUE.entries)?.minor).toBe('1.36');
  });

  it('refuses GKE 1.34 after 2026-10-01 even though upstream still patches it', () => {
    const day = new Date('2026-10-15T00:00:00Z');
    expect(caught(() => resolveVersionForCreate('gke', '1.34', day, VERSION_CATALOGUE.entries)).type).toBe('version-end-of-life');
    expect(resolveVersionForCreate('rke2', '1.34', day, VERSION_CATALOGUE.entries).warnings).toEqual([expect.stringContaining('2026-10-27')]);
  });
});

describe('parseVersionCatalogue', () => {
  const good = {
    provider: 'rke2',
    minor: '1.35',
    latestPatch: '1.35.5',
    releasedAt: '2025-12-17',
    maintenanceAt: '2026-12-28',
    standardSupportEndsAt: null,
    endOfSupportAt: '2027-02-28',
    sources: src,
  };

  it('names every problem of a hand-edited file at once', () => {
    // given dates out of order, a patch of the wrong minor, an impossible day and a duplicate
    const raw = {
      revision: 1,
      source: 'test',
      checkedOn: '2026-11-25',
      entries: [
        { ...good, maintenanceAt: '2027-03-28' },
        { ...good, minor: '1.34', latestPatch: '1.35.1' },
        { ...good, minor: '1.33', latestPatch: '1.33.2', releasedAt: '2026-02-30' },
        { ...good, maintenanceAt: null },
      ],
    };
    // when
    let message = '';
    try {
      parseVersionCatalogue(raw);
    } catch (e) {
      message = (e as Error).message;
    }
    // then
    expect(message).toContain('entries[0] (rke2 1.35): maintenanceAt must fall after releasedAt and before endOfSupportAt');
    expect(message).toContain('entries[1] (rke2 1.34): latestPatch must be a patch of its minor');
    expect(message).toContain('entries[2] (rke2 1.33): releasedAt must be a day');
    expect(message).toContain('entries[3] (rke2 1.35): rke2 1.35 is listed twice');
  });

  it('wants GKE patches in GKE form', () => {
    const raw = { revision: 1, source: 'x', checkedOn: '2026-11-25', entries: [{ ...good, provider: 'gke', maintenanceAt: null }] };
    expect(() => parseVersionCatalogue(raw)).toThrow(/e\.g\. 1\.35\.4-gke\.1200/);
  });

  it('refuses a file without revision, source, checked day or entries', () => {
    expect(() => parseVersionCatalogue({})).toThrow(/"revision".*\n.*"source".*\n.*"checkedOn".*\n.*"entries"/);
  });

  it('refuses a date without a source', () => {
    const raw = { revision: 1, source: 'x', checkedOn: '2026-11-25', entries: [{ ...good, sources: { ...src, maintenanceAt: ' ' } }] };
    expect(() => parseVersionCatalogue(raw)).toThrow(/sources\.maintenanceAt must name where maintenanceAt comes from/);
  });
});
