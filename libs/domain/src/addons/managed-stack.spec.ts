import { managedAddonsFor, MANAGED_ADDONS } from './managed-stack';

describe('managed add-on stack', () => {
  it('gives every supported minor exactly one version of each add-on', () => {
    const names = [...new Set(MANAGED_ADDONS.map((a) => a.name))];
    for (let minor = 31; minor <= 36; minor++) {
      const addons = managedAddonsFor(`1.${minor}.0`);
      expect(addons.map((a) => a.name).sort()).toEqual([...names].sort());
    }
  });

  it('moves CoreDNS with the minor, as kubeadm and RKE2 ship it', () => {
    expect(managedAddonsFor('1.32.11').find((a) => a.name === 'coredns')?.version).toBe('1.11.3');
    expect(managedAddonsFor('1.33.0').find((a) => a.name === 'coredns')?.version).toBe('1.14.6');
  });

  it('installs HAProxy ingress, never the retired ingress-nginx', () => {
    expect(managedAddonsFor('1.36.2').map((a) => a.name)).toContain('haproxy-ingress');
    expect(MANAGED_ADDONS.some((a) => a.name.includes('nginx'))).toBe(false);
  });
});
