/**
 * Advisory cases (docs/upgrades.md, "Advisories"): which ingress-nginx versions CVE-2025-1974 and the
 * retirement cover, in the spellings releases and image tags use.
 *
 * Sources: kubernetes.io/blog/2025/03/24/ingress-nginx-cve-2025-1974 (fixed in 1.11.5 and 1.12.1);
 * github.com/advisories/GHSA-mgvx-rpfc-9mpv (affected: < 1.11.5, and >= 1.12.0-beta.0, < 1.12.1);
 * semver.org §11 (a pre-release sorts before its release; build metadata does not order);
 * kubernetes.io/blog/2025/11/11/ingress-nginx-retirement (no releases or fixes after March 2026).
 */
import { compareComponentVersions, findingsFor, SEEDED_ADVISORIES, versionAffected } from './advisories';

const cve = SEEDED_ADVISORIES.find((a) => a.id === 'CVE-2025-1974')!;
const retired = SEEDED_ADVISORIES.find((a) => a.id === 'RETIRED-ingress-nginx')!;

describe('CVE-2025-1974 (IngressNightmare) by ingress-nginx controller version', () => {
  it('is critical with CVSS 9.8, fixed in 1.11.5 and 1.12.1', () => {
    expect(cve).toMatchObject({ component: 'ingress-nginx', severity: 'critical', cvss: 9.8, fixedIn: ['1.11.5', '1.12.1'] });
  });

  it.each([
    ['1.11.4', 'the last 1.11 patch before the fix'],
    ['1.11.0', 'the first 1.11'],
    ['v1.11.4', 'an image tag with its v'],
    ['1.10.6', 'the 1.10 line, never fixed'],
    ['1.9.6', 'the 1.9 line, never fixed'],
    ['0.49.3', 'the 0.x line'],
    ['1.12.0', '1.12.0 itself'],
    ['v1.12.0', '1.12.0 as a tag'],
    ['1.12.0-beta.0', 'the 1.12 beta, which the advisory lists'],
    ['1.12.1-rc.1', 'a release candidate of the fix is not the fix'],
    ['1.11.5-rc.0', 'nor one of 1.11.5'],
    ['controller-v1.12.0', "the project's release tag of 1.12.0"],
  ])('%s is affected (%s)', (version) => {
    expect(versionAffected(version, cve.affected)).toBe(true);
  });

  it.each([
    ['1.11.5', 'the 1.11 fix'],
    ['v1.11.5', 'the fix as a tag'],
    ['1.11.6', 'a later 1.11'],
    ['1.12.1', 'the 1.12 fix'],
    ['V1.12.1', 'an upper-case V'],
    ['1.12.2', 'a later 1.12'],
    ['1.13.0', 'a later minor'],
    ['1.13.0-beta.0', 'a pre-release of a later minor'],
    ['1.12.1+build.7', 'the fix with build metadata'],
    ['controller-v1.12.1', "the project's release tag of the fix"],
  ])('%s is not affected (%s)', (version) => {
    expect(versionAffected(version, cve.affected)).toBe(false);
  });
});

describe('the ingress-nginx retirement', () => {
  it.each(['0.49.3', '1.9.6', '1.11.5', '1.12.1', '1.12.0-beta.0', '1.14.3'])('covers %s: every version is told to migrate', (version) => {
    expect(versionAffected(version, retired.affected)).toBe(true);
  });

  it('names the migration, not a fixed version', () => {
    expect(retired).toMatchObject({ kind: 'retirement', fixedIn: [], remedy: expect.stringMatching(/HAProxy/) });
  });
});

describe("a cluster's findings", () => {
  it('gives a cluster on 1.12.0 both advisories, one on 1.12.1 only the retirement, and one without ingress-nginx none', () => {
    const ids = (version: string | null) =>
      findingsFor([{ name: 'kubernetes', version: '1.35.4' }, ...(version ? [{ name: 'ingress-nginx', version }] : [])], SEEDED_ADVISORIES).map(
        (f) => f.advisoryId,
      );
    expect(ids('1.12.0')).toEqual(['CVE-2025-1974', 'RETIRED-ingress-nginx']);
    expect(ids('1.12.1')).toEqual(['RETIRED-ingress-nginx']);
    expect(ids(null)).toEqual([]);
  });
});

describe('version order (semver precedence)', () => {
  it('puts a pre-release before its release and ignores build metadata', () => {
    const sorted = ['1.12.1', '1.12.0', '1.12.1-rc.1', '1.12.0-beta.0', '1.11.5', '1.12.1-rc.0', '1.12.0-beta.1'].sort(compareComponentVersions);
    expect(sorted).toEqual(['1.11.5', '1.12.0-beta.0', '1.12.0-beta.1', '1.12.0', '1.12.1-rc.0', '1.12.1-rc.1', '1.12.1']);
    expect(compareComponentVersions('1.12.1+build.1', '1.12.1')).toBe(0);
  });

  it("orders GKE's builds of one patch after that patch (1.35.4-gke.1200 is a release, not a pre-release)", () => {
    expect(compareComponentVersions('1.35.4-gke.1200', '1.35.4')).toBeGreaterThan(0);
    expect(compareComponentVersions('1.35.4-gke.1200', '1.35.4-gke.1300')).toBeLessThan(0);
    expect(compareComponentVersions('1.35.4-gke.1300', '1.35.5')).toBeLessThan(0);
  });
});
