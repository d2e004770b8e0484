/**
 * Recognising ingress-nginx in a cluster's workloads by image, and what the distribution bundles
 * (docs/upgrades.md, "What a cluster runs").
 *
 * Sources: kubernetes/ingress-nginx release images (registry.k8s.io/ingress-nginx/controller:vX.Y.Z@sha256:...,
 * formerly k8s.gcr.io); RKE2's rke2-ingress-nginx chart (rancher/nginx-ingress-controller:nginx-1.10.1-hardened1,
 * later v1.12.4-hardened2); GHSA-mgvx-rpfc-9mpv (affected < 1.11.5 and 1.12.0-beta.0 to 1.12.0);
 * docs.rke2.io/release-notes (etcd 3.6.14 in v1.33 to v1.36).
 */
import { findingsFor, SEEDED_ADVISORIES } from './advisories';
import { bundledComponentsFor, detectComponents, ingressNginxTagVersion, parseImageReference, recogniseIngressNginx } from './detected-components';

const DIGEST = 'sha256:e6439a12b52076965928e83b7b56aae6731231677b01e81818bce7fa5c60161a';

describe('image references', () => {
  it.each([
    ['registry.k8s.io/ingress-nginx/controller:v1.11.3', { registry: 'registry.k8s.io', repository: 'ingress-nginx/controller', tag: 'v1.11.3', digest: null }],
    [
      `registry.k8s.io/ingress-nginx/controller:v1.11.3@${DIGEST}`,
      { registry: 'registry.k8s.io', repository: 'ingress-nginx/controller', tag: 'v1.11.3', digest: DIGEST },
    ],
    [`registry.k8s.io/ingress-nginx/controller@${DIGEST}`, { registry: 'registry.k8s.io', repository: 'ingress-nginx/controller', tag: null, digest: DIGEST }],
    ['localhost:5000/ingress-nginx/controller', { registry: 'localhost:5000', repository: 'ingress-nginx/controller', tag: null, digest: null }],
    [
      'mirror.example:5000/ingress-nginx/controller:v1.12.1',
      { registry: 'mirror.example:5000', repository: 'ingress-nginx/controller', tag: 'v1.12.1', digest: null },
    ],
    [
      'rancher/nginx-ingress-controller:nginx-1.10.1-hardened1',
      { registry: null, repository: 'rancher/nginx-ingress-controller', tag: 'nginx-1.10.1-hardened1', digest: null },
    ],
    ['nginx', { registry: null, repository: 'nginx', tag: null, digest: null }],
  ])('%s', (image, expected) => {
    expect(parseImageReference(image)).toEqual(expected);
  });
});

describe('the ingress-nginx version an image tag names', () => {
  it.each([
    ['v1.11.3', '1.11.3'],
    ['1.11.3', '1.11.3'],
    ['V1.12.1', '1.12.1'],
    ['controller-v1.12.0', '1.12.0'],
    ['nginx-1.10.1-hardened1', '1.10.1'],
    ['v1.12.4-hardened2', '1.12.4'],
    ['v1.12.0-beta.0', '1.12.0-beta.0'],
    ['v1.12.1-rc.1', '1.12.1-rc.1'],
    ['1.11.5-debian-12-r3', '1.11.5'],
  ])('%s is %s', (tag, version) => {
    expect(ingressNginxTagVersion(tag)).toBe(version);
  });

  it.each(['latest', 'stable', 'v1.12', 'main-2025'])('%s names no version', (tag) => {
    expect(ingressNginxTagVersion(tag)).toBeNull();
  });
});

describe('recognising the ingress-nginx controller', () => {
  it.each([
    ['registry.k8s.io/ingress-nginx/controller:v1.11.3', '1.11.3'],
    [`registry.k8s.io/ingress-nginx/controller:v1.11.3@${DIGEST}`, '1.11.3'],
    ['k8s.gcr.io/ingress-nginx/controller:v1.1.1', '1.1.1'],
    ['registry.k8s.io/ingress-nginx/controller-chroot:v1.12.0', '1.12.0'],
    ['rancher/nginx-ingress-controller:nginx-1.10.1-hardened1', '1.10.1'],
    ['docker.io/rancher/nginx-ingress-controller:v1.12.4-hardened2', '1.12.4'],
    ['quay.io/kubernetes-ingress-controller/nginx-ingress-controller:0.30.0', '0.30.0'],
    ['harbor.internal/proxy/ingress-nginx/controller:v1.12.1', '1.12.1'],
  ])('%s runs ingress-nginx %s', (image, version) => {
    expect(recogniseIngressNginx(image)).toEqual({ version });
  });

  it('an image pinned by digest alone is ingress-nginx of unknown version', () => {
    expect(recogniseIngressNginx(`registry.k8s.io/ingress-nginx/controller@${DIGEST}`)).toEqual({ version: null });
    expect(recogniseIngressNginx('registry.k8s.io/ingress-nginx/controller:latest')).toEqual({ version: null });
  });

  it.each([
    'nginx/nginx-ingress:4.0.1', // F5 NGINX Ingress Controller, another product
    'registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.5.0', // the chart's admission-secret Job image
    'haproxytech/kubernetes-ingress:3.1.0',
    'nginx:1.27',
    'registry.example/my-ingress-nginx/controllers:v1.11.3',
  ])('%s is not the ingress-nginx controller', (image) => {
    expect(recogniseIngressNginx(image)).toBeNull();
  });
});

describe('components detected in workloads', () => {
  it('names each workload running the controller, once, with its version or none', () => {
    const found = detectComponents([
      { kind: 'Deployment', namespace: 'shop', name: 'web', images: ['nginx:1.27'] },
      {
        kind: 'Deployment',
        namespace: 'ingress-nginx',
        name: 'ingress-nginx-controller',
        images: ['registry.k8s.io/ingress-nginx/controller:v1.11.3', 'registry.k8s.io/ingress-nginx/controller:v1.11.3'],
      },
      { kind: 'DaemonSet', namespace: 'kube-system', name: 'rke2-ingress-nginx-controller', images: [`rancher/nginx-ingress-controller@${DIGEST}`] },
    ]);
    expect(found).toEqual([
      {
        component: 'ingress-nginx',
        version: '1.11.3',
        namespace: 'ingress-nginx',
        workloadKind: 'Deployment',
        workload: 'ingress-nginx-controller',
        image: 'registry.k8s.io/ingress-nginx/controller:v1.11.3',
      },
      {
        component: 'ingress-nginx',
        version: null,
        namespace: 'kube-system',
        workloadKind: 'DaemonSet',
        workload: 'rke2-ingress-nginx-controller',
        image: `rancher/nginx-ingress-controller@${DIGEST}`,
      },
    ]);
  });

  it('the advisories judge them: an affected version gets the CVE and the retirement, a fixed one the retirement, an unknown one the retirement alone', () => {
    const ids = (version: string | null) => findingsFor([{ name: 'ingress-nginx', version }], SEEDED_ADVISORIES).map((f) => f.advisoryId);
    expect(ids(ingressNginxTagVersion('v1.11.3'))).toEqual(['CVE-2025-1974', 'RETIRED-ingress-nginx']);
    expect(ids(ingressNginxTagVersion('nginx-1.10.1-hardened1'))).toEqual(['CVE-2025-1974', 'RETIRED-ingress-nginx']);
    expect(ids(ingressNginxTagVersion('v1.12.0-beta.0'))).toEqual(['CVE-2025-1974', 'RETIRED-ingress-nginx']);
    expect(ids(ingressNginxTagVersion('v1.12.1'))).toEqual(['RETIRED-ingress-nginx']);
    expect(ids(ingressNginxTagVersion('v1.11.5-hardened1'))).toEqual(['RETIRED-ingress-nginx']);
    expect(ids(null)).toEqual(['RETIRED-ingress-nginx']);
  });
});

describe('components the distribution bundles', () => {
  it.each([
    ['rke2', '1.33.6', [{ name: 'etcd', version: '3.6.14' }]],
    ['rke2', 'v1.36.1+rke2r1', [{ name: 'etcd', version: '3.6.14' }]],
    ['rke2', '1.32.9', []],
    ['rke2', '1.37.0', []],
    ['gke', '1.35.8-gke.1225000', []],
  ])('%s %s bundles %j', (provider, version, expected) => {
    expect(bundledComponentsFor(provider, version)).toEqual(expected);
  });
});
