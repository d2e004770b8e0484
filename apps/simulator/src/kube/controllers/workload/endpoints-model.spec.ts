import type { KubeObject } from '../../types';
import { testPod } from '../../../../test/pod-fixture';
import {
  apiServerEndpoints,
  endpointsLabels,
  endpointSubsets,
  MAX_ENDPOINTS_PER_SLICE,
  mirroredSliceContents,
  planSlices,
  resolveTargetPort,
  sliceContents,
  sliceLabels,
  SLICE_CONTROLLER,
} from './endpoints-model';

function service(spec: Record<string, unknown>, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels },
    spec: { selector: { app: 'web' }, ...spec },
  };
}

function pod(
  name: string,
  ip: string | undefined,
  options: {
    ready?: boolean;
    deleting?: boolean;
    phase?: string;
    node?: string;
    labels?: Record<string, string>;
    ports?: unknown[];
    spec?: Record<string, unknown>;
  } = {},
): KubeObject {
  return testPod(name, {
    ready: options.ready ?? true,
    metadata: { labels: options.labels ?? { app: 'web' }, ...(options.deleting ? { deletionTimestamp: '2026-12-06T00:00:00Z' } : {}) },
    spec: { nodeName: options.node ?? 'n1', containers: [{ name: 'c', ports: options.ports ?? [{ name: 'http', containerPort: 8080 }] }], ...options.spec },
    status: { phase: options.phase ?? 'Running', ...(ip ? { podIP: ip } : {}) },
  });
}

const noZone = () => undefined;

describe('targetPort resolution', () => {
  it('takes a number as is, defaults to the port, and looks a name up among container ports of the same protocol', () => {
    const p = pod('a', '10.42.0.1', {
      ports: [
        { name: 'http', containerPort: 8080 },
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
      ],
    });
    expect(resolveTargetPort(p, { port: 80, targetPort: 9000 })).toBe(9000);
    expect(resolveTargetPort(p, { port: 80 })).toBe(80);
    expect(resolveTargetPort(p, { port: 80, targetPort: 'http' })).toBe(8080);
    expect(resolveTargetPort(p, { port: 53, targetPort: 'dns', protocol: 'UDP' })).toBe(53);
    expect(resolveTargetPort(p, { port: 53, targetPort: 'dns' })).toBeNull();
    expect(resolveTargetPort(p, { port: 80, targetPort: 'metrics' })).toBeNull();
  });
});

describe('Endpoints subsets', () => {
  it('puts ready pods under addresses and unready ones under notReadyAddresses, sorted by IP, leaving out pods without IP, finished, terminating or unselected', () => {
    const svc = service({ ports: [{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }] });
    const subsets = endpointSubsets(svc, [
      pod('b', '10.42.0.9'),
      pod('a', '10.42.0.10', { node: 'n2' }),
      pod('c', '10.42.0.3', { ready: false }),
      pod('d', undefined),
      pod('e', '10.42.0.4', { phase: 'Succeeded' }),
      pod('f', '10.42.0.5', { deleting: true }),
      pod('g', '10.42.0.6', { labels: { app: 'other' } }),
    ]);
    expect(subsets).toEqual([
      {
        addresses: [
          { ip: '10.42.0.10', nodeName: 'n2', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
          { ip: '10.42.0.9', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
        ],
        notReadyAddresses: [{ ip: '10.42.0.3', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'uid-c' } }],
        ports: [{ name: 'web', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('groups pods by the ports they resolve, and skips pods that resolve none', () => {
    const svc = service({ ports: [{ port: 80, targetPort: 'http', protocol: 'TCP' }] });
    const subsets = endpointSubsets(svc, [
      pod('a', '10.42.0.1'),
      pod('b', '10.42.0.2', { ports: [{ name: 'http', containerPort: 9090 }] }),
      pod('c', '10.42.0.3', { ports: [] }),
    ]);
    expect(subsets.map((s) => [s.ports, s.addresses?.map((a) => a.ip)])).toEqual([
      [[{ port: 8080, protocol: 'TCP' }], ['10.42.0.1']],
      [[{ port: 9090, protocol: 'TCP' }], ['10.42.0.2']],
    ]);
    expect(endpointSubsets(svc, [pod('c', '10.42.0.3', { ports: [] })])).toEqual([]);
  });

  it('publishNotReadyAddresses lists every pod as ready, terminating ones included; a headless Service without ports lists addresses only', () => {
    const svc = service({ publishNotReadyAddresses: true, ports: [{ port: 80, protocol: 'TCP' }] });
    const [subset] = endpointSubsets(svc, [pod('a', '10.42.0.1', { ready: false }), pod('b', '10.42.0.2', { deleting: true })]);
    expect(subset?.addresses?.map((a) => a.ip)).toEqual(['10.42.0.1', '10.42.0.2']);
    expect(subset?.notReadyAddresses).toBeUndefined();
    const headless = service({ clusterIP: 'None', ports: [] });
    expect(endpointSubsets(headless, [pod('a', '10.42.0.1', { spec: { hostname: 'a', subdomain: 'web' } })])).toEqual([
      { addresses: [{ ip: '10.42.0.1', hostname: 'a', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }] },
    ]);
    expect(endpointSubsets(service({ ports: [] }), [pod('a', '10.42.0.1')])).toEqual([]);
  });

  it('labels: the Service labels, skip-mirror, and headless when it is', () => {
    expect(endpointsLabels(service({}, { tier: 'front' }))).toEqual({ tier: 'front', 'endpointslice.kubernetes.io/skip-mirror': 'true' });
    expect(endpointsLabels(service({ clusterIP: 'None' }))).toEqual({
      'endpointslice.kubernetes.io/skip-mirror': 'true',
      'service.kubernetes.io/headless': '',
    });
  });
});

describe('EndpointSlice contents', () => {
  const svc = service({
    ports: [
      { port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'metrics', port: 9100, protocol: 'TCP' },
    ],
  });

  it('keeps terminating pods with ready false, serving from the Ready condition, and the zone of the node', () => {
    const [slice, ...rest] = sliceContents(
      svc,
      [
        pod('a', '10.42.0.1'),
        pod('b', '10.42.0.2', { ready: false }),
        pod('c', '10.42.0.3', { deleting: true }),
        pod('d', '10.42.0.4', { deleting: true, ready: false }),
      ],
      (node) => (node === 'n1' ? 'zone-a' : undefined),
    );
    expect(rest).toEqual([]);
    expect(slice?.ports).toEqual([
      { name: '', port: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 9100, protocol: 'TCP' },
    ]);
    expect(slice?.endpoints?.map((e) => [e.addresses[0], e.conditions, e.zone])).toEqual([
      ['10.42.0.1', { ready: true, serving: true, terminating: false }, 'zone-a'],
      ['10.42.0.2', { ready: false, serving: false, terminating: false }, 'zone-a'],
      ['10.42.0.3', { ready: false, serving: true, terminating: true }, 'zone-a'],
      ['10.42.0.4', { ready: false, serving: false, terminating: true }, 'zone-a'],
    ]);
    expect(slice?.endpoints?.[0]).toMatchObject({ nodeName: 'n1', targetRef: { kind: 'Pod', name: 'a', uid: 'uid-a' } });
  });

  it('answers one placeholder without ports or endpoints when no pod matches, and splits at 100 endpoints a slice', () => {
    expect(sliceContents(svc, [pod('x', '10.42.0.1', { labels: {} })], noZone)).toEqual([{ ports: null, endpoints: null }]);
    const many = Array.from({ length: MAX_ENDPOINTS_PER_SLICE + 5 }, (_, i) => pod(`p${i}`, `10.42.${Math.floor(i / 200)}.${i % 200}`));
    const slices = sliceContents(svc, many, noZone);
    expect(slices.map((s) => s.endpoints?.length)).toEqual([100, 5]);
  });

  it('labels slices with the service name and manager, without skip-mirror', () => {
    expect(sliceLabels(service({}, { tier: 'front' }), 'web', SLICE_CONTROLLER)).toEqual({
      tier: 'front',
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
  });
});

describe('planSlices', () => {
  const stored = (name: string, port: number | null, ips: string[]): KubeObject => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default' },
    addressType: 'IPv4',
    ports: port === null ? null : [{ name: '', port, protocol: 'TCP' }],
    endpoints: port === null ? null : ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  });
  const content = (port: number, ips: string[]) => ({
    ports: [{ name: '', port, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  });

  it('leaves equal slices alone, updates one of the same ports, creates the rest and removes leftovers', () => {
    const plan = planSlices(
      [stored('web-b', 8080, ['10.0.0.1']), stored('web-a', 9090, ['10.0.0.2']), stored('web-c', null, [])],
      [content(8080, ['10.0.0.1']), content(9090, ['10.0.0.3']), content(7070, ['10.0.0.4'])],
    );
    expect(plan.keep.map((k) => [k.slice.metadata.name, k.changed])).toEqual([
      ['web-b', false],
      ['web-a', true],
    ]);
    expect(plan.create).toEqual([content(7070, ['10.0.0.4'])]);
    expect(plan.remove.map((s) => s.metadata.name)).toEqual(['web-c']);
  });

  it('keeps one of two slices a race created for the same content and removes the other', () => {
    const plan = planSlices([stored('web-x', 8080, ['10.0.0.1']), stored('web-y', 8080, ['10.0.0.1'])], [content(8080, ['10.0.0.1'])]);
    expect(plan.keep.map((k) => k.slice.metadata.name)).toEqual(['web-x']);
    expect(plan.remove.map((s) => s.metadata.name)).toEqual(['web-y']);
  });
});

describe('mirroring and the API server endpoints', () => {
  it('mirrors each subset of Endpoints into a slice, unready addresses with ready false', () => {
    const endpoints: KubeObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'db', namespace: 'default' },
      subsets: [{ addresses: [{ ip: '192.168.1.5', nodeName: 'n1' }], notReadyAddresses: [{ ip: '192.168.1.6' }], ports: [{ port: 5432 }] }],
    };
    expect(mirroredSliceContents(endpoints)).toEqual([
      {
        ports: [{ name: '', port: 5432, protocol: 'TCP' }],
        endpoints: [
          { addresses: ['192.168.1.5'], conditions: { ready: true }, nodeName: 'n1' },
          { addresses: ['192.168.1.6'], conditions: { ready: false } },
        ],
      },
    ]);
    expect(mirroredSliceContents({ ...endpoints, subsets: undefined })).toEqual([]);
  });

  it('lists the API servers on the https port', () => {
    expect(apiServerEndpoints(['10.0.0.3', '10.0.0.2'], 6443)).toEqual({
      subsets: [{ addresses: [{ ip: '10.0.0.2' }, { ip: '10.0.0.3' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }],
      slice: {
        ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
        endpoints: [
          { addresses: ['10.0.0.2'], conditions: { ready: true } },
          { addresses: ['10.0.0.3'], conditions: { ready: true } },
        ],
      },
    });
  });
});
