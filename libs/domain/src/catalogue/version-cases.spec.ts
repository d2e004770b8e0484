/**
 * Version cases a customer or reviewer meets on the shipped catalogue (docs/upgrades.md, "Kubernetes
 * versions"): states around each boundary day, per provider, and the version strings people paste.
 */
import { UnprocessableError } from '../errors/domain-error';
import { caught } from '../test/thrown';
import { listVersions, resolveVersionForCreate, VERSION_CATALOGUE } from './kubernetes-versions';

const at = (iso: string) => new Date(iso);
const cat = VERSION_CATALOGUE.entries;
const stateOf = (provider: 'rke2' | 'gke', minor: string, now: Date) => listVersions(now, provider, cat).find((v) => v.minor === minor)?.state;

describe('the shipped catalogue around its boundary days', () => {
  it.each([
    ['rke2', '1.34', '2026-10-26T23:59:59.999Z', 'maintenance'],
    ['rke2', '1.34', '2026-10-27T00:00:00Z', 'eol'],
    ['rke2', '1.34', '2026-12-06T12:00:00Z', 'eol'],
    ['rke2', '1.35', '2026-12-06T12:00:00Z', 'supported'],
    ['rke2', '1.35', '2026-12-27T23:59:59Z', 'supported'],
    ['rke2', '1.35', '2026-12-28T00:00:00Z', 'maintenance'],
    ['rke2', '1.35', '2027-02-28T00:00:00Z', 'eol'],
    ['rke2', '1.36', '2026-12-06T12:00:00Z', 'supported'],
    ['rke2', '1.37', '2026-12-06T12:00:00Z', 'preview'],
    ['rke2', '1.33', '2026-12-06T12:00:00Z', 'eol'],
    ['gke', '1.34', '2026-09-30T23:59:59Z', 'deprecated'],
    ['gke', '1.34', '2026-10-01T00:00:00Z', 'eol'],
    ['gke', '1.35', '2026-12-06T12:00:00Z', 'supported'],
    ['gke', '1.35', '2027-02-28T00:00:00Z', 'deprecated'],
    ['gke', '1.35', '2027-04-11T00:00:00Z', 'eol'],
    ['gke', '1.36', '2027-08-09T00:00:00Z', 'eol'],
  ] as const)('%s %s on %s is %s', (provider, minor, iso, state) => {
    expect(stateOf(provider, minor, at(iso))).toBe(state);
  });

  it('refuses RKE2 1.34 today as end of life, naming 2026-10-27', () => {
    const e = caught(() => resolveVersionForCreate('rke2', '1.34', at('2026-12-06T12:00:00Z'), cat));
    expect(e).toBeInstanceOf(UnprocessableError);
    expect(e.type).toBe('version-end-of-life');
    expect(e.detail).toContain('2026-10-27');
  });

  it('creates RKE2 1.35 from 2026-12-28 with a maintenance-mode warning naming its end of life', () => {
    const r = resolveVersionForCreate('rke2', '1.35', at('2026-12-28T08:00:00Z'), cat);
    expect(r.minor).toBe('1.35');
    expect(r.warnings.join(' ')).toMatch(/maintenance mode.*2027-02-28/);
    // and the default is no longer 1.35 once it is in maintenance mode
    expect(resolveVersionForCreate('rke2', undefined, at('2026-12-28T08:00:00Z'), cat).minor).toBe('1.36');
  });

  it('never defaults to the RKE2 1.37 preview, but creates it when asked, with a warning', () => {
    expect(resolveVersionForCreate('rke2', undefined, at('2026-12-06T12:00:00Z'), cat).minor).not.toBe('1.37');
    expect(resolveVersionForCreate('rke2', '1.37', at('2026-12-06T12:00:00Z'), cat).warnings.join(' ')).toContain('preview');
  });
});

describe('version strings customers send', () => {
  const now = at('2026-12-06T12:00:00Z');

  it.each([
    ['rke2', '1.36', '1.36.4'],
    ['rke2', 'v1.36', '1.36.4'],
    ['rke2', '1.36.4', '1.36.4'],
    ['rke2', 'v1.36.4', '1.36.4'],
    ['rke2', ' 1.36 ', '1.36.4'],
    // RKE2 spells its releases v1.36.4+rke2r1: the same upstream patch
    ['rke2', 'v1.36.4+rke2r1', '1.36.4'],
    ['rke2', '1.36.4+rke2r2', '1.36.4'],
    ['gke', '1.35', '1.35.8-gke.1225000'],
    ['gke', '1.35.8-gke.1225000', '1.35.8-gke.1225000'],
    // GKE takes 1.X.Y for the newest GKE build of that patch
    ['gke', '1.35.8', '1.35.8-gke.1225000'],
  ] as const)('%s "%s" creates on %s', (provider, requested, patch) => {
    expect(resolveVersionForCreate(provider, requested, now, cat).patch).toBe(patch);
  });

  it.each([
    ['rke2', 'latest'],
    ['rke2', '1'],
    ['rke2', '1.36.4.1'],
    ['rke2', '1.36.x'],
    ['rke2', '1.99'],
    ['rke2', '2.0'],
    ['rke2', '1.36.3'], // an older patch: only the latest is offered
    ['rke2', '1.36.99'], // a patch that does not exist
    ['rke2', '1.36.4-gke.1391000'], // a GKE build on RKE2
    ['rke2', 'v1.36.3+rke2r1'],
    ['gke', '1.35.8-gke.1'], // a GKE build that is not the one offered
    ['gke', '1.35.7'],
    ['gke', '1.35.8+rke2r1'], // an RKE2 release on GKE
    ['gke', '1.33.5-gke.1080000'], // GKE 1.33 is end of life
    ['rke2', `1.36${'0'.repeat(500)}`],
    ['rke2', '<script>'],
  ] as const)('%s "%s" is refused with a 422', (provider, requested) => {
    const e = caught(() => resolveVersionForCreate(provider, requested, now, cat));
    expect(e).toBeInstanceOf(UnprocessableError);
    expect(e.detail.length).toBeLessThan(400);
  });
});
