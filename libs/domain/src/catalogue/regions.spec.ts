import { UnprocessableError } from '../errors/domain-error';
import { assertRegionAllowed, listRegions, REGIONS, regionsAllowed } from './regions';
import { caught } from '../test/thrown';

describe('regions', () => {
  it("offers Nine's Swiss locations for RKE2 and three European regions for GKE", () => {
    expect(listRegions('rke2').map((r) => r.id)).toEqual(['nine-cz41', 'nine-cz42', 'nine-es34']);
    expect(listRegions('gke').map((r) => [r.id, r.country])).toEqual([
      ['europe-west6', 'CH'],
      ['europe-west3', 'DE'],
      ['europe-west1', 'BE'],
    ]);
    expect(listRegions()).toHaveLength(REGIONS.length);
  });

  it('has unique ids, so a region id alone names a provider', () => {
    expect(new Set(REGIONS.map((r) => r.id)).size).toBe(REGIONS.length);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(REGIONS)).toBe(true);
    expect(REGIONS.every((r) => Object.isFrozen(r))).toBe(true);
  });

  it('lists the regions a residency allows', () => {
    expect(regionsAllowed('gke', 'CH').map((r) => r.id)).toEqual(['europe-west6']);
    expect(regionsAllowed('rke2', 'DE')).toEqual([]);
  });
});

describe('assertRegionAllowed', () => {
  it('returns the region when provider and residency match', () => {
    expect(assertRegionAllowed('europe-west6', 'gke', 'CH')).toEqual({ id: 'europe-west6', provider: 'gke', country: 'CH', displayName: 'Zurich' });
    expect(assertRegionAllowed('nine-es34', 'rke2', 'ch').country).toBe('CH');
  });

  it('refuses a region outside the organisation residency, naming both countries', () => {
    // given an organisation whose data must stay in CH
    // when it asks for Frankfurt
    const error = caught(() => assertRegionAllowed('europe-west3', 'gke', 'CH'));
    // then
    expect(error).toBeInstanceOf(UnprocessableError);
    expect(error.type).toBe('data-residency-violation');
    expect(error.detail).toBe('region europe-west3 is in DE, but organisation data must stay in CH; gke regions in CH: europe-west6');
    expect(error.extensions).toMatchObject({ region: 'europe-west3', country: 'DE', residency: 'CH', allowed: ['europe-west6'] });
  });

  it('says so when the provider has no region in the residency country', () => {
    expect(caught(() => assertRegionAllowed('nine-cz41', 'rke2', 'DE')).detail).toBe(
      'region nine-cz41 is in CH, but organisation data must stay in DE; rke2 has no region in DE',
    );
  });

  it('refuses an unknown region, listing the offered ones', () => {
    const error = caught(() => assertRegionAllowed('us-east1', 'gke', 'CH'));
    expect(error.type).toBe('region-not-offered');
    expect(error.detail).toBe('region us-east1 is not offered for gke; gke regions are europe-west6 (CH), europe-west3 (DE), europe-west1 (BE)');
  });

  it("refuses another provider's region", () => {
    const error = caught(() => assertRegionAllowed('nine-cz41', 'gke', 'CH'));
    expect(error.type).toBe('region-not-offered');
    expect(error.detail).toContain('region nine-cz41 is a rke2 region, not a gke one');
  });
});
