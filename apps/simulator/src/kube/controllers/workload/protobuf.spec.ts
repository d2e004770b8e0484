import { decodeEviction, decodeTokenRequest, isKubeProtobuf, ProtobufError } from './protobuf';

/** Bodies captured from kubectl 1.32 (`kubectl create token robot --duration=1h --audience=aud1 --bound-object-kind=Pod ...`). */
const TOKEN_REQUEST_FULL =
  '6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e5265717565737412360a100a0012001a0022002a00320038004200121c0a04617564311a110a03506f64120276311a0270312202753120901c1a040a0012001a002200';
const TOKEN_REQUEST_BARE =
  '6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e52657175657374121a0a100a0012001a0022002a0032003800420012001a040a0012001a002200';

describe('Kubernetes protobuf request bodies', () => {
  it('reads a TokenRequest kubectl sends, with audiences, duration and bound object', () => {
    const body = Buffer.from(TOKEN_REQUEST_FULL, 'hex');
    expect(isKubeProtobuf(body)).toBe(true);
    expect(decodeTokenRequest(body)).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: { audiences: ['aud1'], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p1', uid: 'u1' } },
    });
  });

  it('leaves out what kubectl did not set, so the server defaults apply', () => {
    expect(decodeTokenRequest(Buffer.from(TOKEN_REQUEST_BARE, 'hex'))).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: {},
    });
  });

  it('reads an Eviction with its delete options', () => {
    // metadata {name: "p1", namespace: "default"}, deleteOptions {gracePeriodSeconds: 7, preconditions {uid: "u1"}, dryRun: ["All"]}
    const eviction = Buffer.concat([Buffer.from('0a0d0a027031', 'hex'), Buffer.from('1a0764656661756c74', 'hex')]);
    const options = Buffer.from('080712040a027531' + '2a03416c6c', 'hex');
    const raw = Buffer.concat([eviction, Buffer.from([0x12, options.length]), options]);
    const typeMeta = Buffer.concat([Buffer.from([0x0a, 9]), Buffer.from('policy/v1'), Buffer.from([0x12, 8]), Buffer.from('Eviction')]);
    const body = Buffer.concat([Buffer.from('6b387300', 'hex'), Buffer.from([0x0a, typeMeta.length]), typeMeta, Buffer.from([0x12, raw.length]), raw]);
    expect(decodeEviction(body)).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'p1', namespace: 'default' },
      deleteOptions: { gracePeriodSeconds: 7, preconditions: { uid: 'u1' }, dryRun: ['All'] },
    });
  });

  it('refuses truncated bodies and ignores JSON', () => {
    expect(() => decodeTokenRequest(Buffer.from(TOKEN_REQUEST_FULL.slice(0, 60), 'hex'))).toThrow(ProtobufError);
    expect(isKubeProtobuf(Buffer.from('{"kind":"TokenRequest"}'))).toBe(false);
    expect(isKubeProtobuf({ kind: 'TokenRequest' })).toBe(false);
  });
});
