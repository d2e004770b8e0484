import { sumQuantities } from './resource-quotas';

describe('resource quota usage', () => {
  it('sums quantities into the canonical form kubectl shows', () => {
    expect(sumQuantities(['500m', '1', '250m'], true)).toBe('1750m');
    expect(sumQuantities(['500m', '500m'], true)).toBe('1');
    expect(sumQuantities(['128Mi', '256Mi'], false)).toBe('384Mi');
    expect(sumQuantities(['1Gi', '512Mi'], false)).toBe('1536Mi');
    expect(sumQuantities(['1G', '500M'], false)).toBe('1500M');
    expect(sumQuantities([undefined, 'nonsense'], false)).toBe('0');
  });
});
