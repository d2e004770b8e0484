import { asClusterObjects, kindsToScan, minorOf, removedApiFindings, writtenApiVersions } from './written-api-versions';

const flowSchema = (metadata: object) => ({ apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', metadata: { name: 'fs', ...metadata } });
const lastApplied = (apiVersion: string) => ({ 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ apiVersion, kind: 'FlowSchema' }) });

describe('writtenApiVersions', () => {
  it('reads the version of the last client-side apply and of every field manager but status writers', () => {
    const object = flowSchema({
      annotations: lastApplied('flowcontrol.apiserver.k8s.io/v1beta3'),
      managedFields: [
        { manager: 'helm', apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta2' },
        { manager: 'api-priority-and-fairness-config-consumer-v1', apiVersion: 'flowcontrol.apiserver.k8s.io/v1', subresource: 'status' },
      ],
    });
    expect(writtenApiVersions(object)).toEqual([
      { apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3', source: 'last-applied' },
      { apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta2', source: 'managed-fields', manager: 'helm' },
    ]);
  });

  it('ignores a last-applied annotation that is not JSON', () => {
    expect(writtenApiVersions(flowSchema({ annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{oops' } }))).toEqual([]);
  });
});

describe('removedApiFindings', () => {
  it('names an object written through an API removed on the hop, once per API version', () => {
    const object = flowSchema({
      annotations: lastApplied('flowcontrol.apiserver.k8s.io/v1beta3'),
      managedFields: [{ manager: 'kubectl-client-side-apply', apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3' }],
    });
    expect(removedApiFindings([object], 31, 32)).toEqual([
      {
        apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3',
        kind: 'FlowSchema',
        namespace: null,
        name: 'fs',
        removedIn: '1.32',
        replacement: 'flowcontrol.apiserver.k8s.io/v1',
        source: 'last-applied',
      },
    ]);
  });

  it('passes objects written through a version that stays, and hops that do not reach the removal', () => {
    const current = flowSchema({ annotations: lastApplied('flowcontrol.apiserver.k8s.io/v1') });
    const old = flowSchema({ annotations: lastApplied('flowcontrol.apiserver.k8s.io/v1beta3') });
    expect(removedApiFindings([current], 31, 32)).toEqual([]);
    expect(removedApiFindings([old], 30, 31)).toEqual([]);
    expect(removedApiFindings([old], 32, 33)).toEqual([]);
  });

  it('passes an object with no trace of how it was written: the server converts what it stores', () => {
    expect(removedApiFindings([flowSchema({})], 31, 32)).toEqual([]);
  });
});

describe('asClusterObjects', () => {
  it('gives the planner each written version, or the listed one without traces', () => {
    expect(asClusterObjects(flowSchema({ annotations: lastApplied('flowcontrol.apiserver.k8s.io/v1beta3') }))).toEqual([
      { apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3', kind: 'FlowSchema', namespace: null, name: 'fs' },
    ]);
    expect(asClusterObjects({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' } })).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' },
    ]);
  });
});

describe('kindsToScan', () => {
  it('lists the kinds with a removal on the hop, under the old group and the replacement', () => {
    expect(kindsToScan(31, 32)).toEqual([
      { group: 'flowcontrol.apiserver.k8s.io', kind: 'FlowSchema' },
      { group: 'flowcontrol.apiserver.k8s.io', kind: 'PriorityLevelConfiguration' },
    ]);
    expect(kindsToScan(31, 31)).toEqual([]);
    expect(kindsToScan(21, 22)).toContainEqual({ group: 'networking.k8s.io', kind: 'Ingress' });
    expect(kindsToScan(21, 22)).toContainEqual({ group: 'extensions', kind: 'Ingress' });
  });

  it('reads minors in every distribution form', () => {
    expect([minorOf('v1.31.4+rke2r1'), minorOf('1.32'), minorOf('v1.36.2-gke.1100'), minorOf('1.33.0')]).toEqual([31, 32, 36, 33]);
    expect(() => minorOf('2.0')).toThrow('not a Kubernetes 1.x version');
  });
});
