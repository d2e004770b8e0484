import { ADDON_CATALOGUE_SEED, defaultAddonNames } from './addon-catalogue';
import { managedAddonsFor } from './managed-stack';

describe('managed add-on stack', () => {
  it('gives every supported minor exactly one version of each always-on and default add-on', () => {
    const names = defaultAddonNames(ADDON_CATALOGUE_SEED.releases);
    expect(names).toEqual(expect.arrayContaining(['cilium', 'coredns', 'csi-driver', 'haproxy-ingress', 'cert-manager', 'kube-prometheus-stack']));
    for (let minor = 31; minor <= 36; minor++) {
      const addons = managedAddonsFor(`1.${minor}.0`);
      expect(addons.map((a) => a.name).sort()).toEqual([...names].sort());
    }
  });

  it('leaves optional add-ons to the customer', () => {
    expect(managedAddonsFor('1.35.0').map((a) => a.name)).not.toContain('keda');
    expect(managedAddonsFor('1.35.0').map((a) => a.name)).not.toContain('argo-cd');
  });

  it('moves CoreDNS with the minor, as kubeadm and RKE2 ship it', () => {
    expect(managedAddonsFor('1.32.11').find((a) => a.name === 'coredns')?.version).toBe('1.11.3');
    expect(managedAddonsFor('1.33.0').find((a) => a.name === 'coredns')?.version).toBe('1.14.6');
  });

  it('installs HAProxy ingress, never the retired ingress-nginx', () => {
    expect(managedAddonsFor('1.36.2').map((a) => a.name)).toContain('haproxy-ingress');
    expect(ADDON_CATALOGUE_SEED.releases.find((r) => r.name === 'haproxy-ingress')).toMatchObject({ chart: 'kubernetes-ingress' });
    expect(ADDON_CATALOGUE_SEED.releases.some((a) => a.name.includes('nginx') || a.chart.includes('nginx'))).toBe(false);
  });
});
