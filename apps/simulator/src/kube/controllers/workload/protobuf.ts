import { KubeApiError } from '../../types';

/**
 * Reads the Kubernetes protobuf encoding of the request bodies our subresources take. kubectl
 * 1.32's typed client sends `kubectl create token`'s TokenRequest as
 * `application/vnd.kubernetes.protobuf`: the magic `k8s\0`, then a `runtime.Unknown` (typeMeta = 1,
 * raw = 2) whose raw bytes are the object's message. Field numbers are those of the upstream
 * `generated.proto` files (k8s.io/api/authentication/v1, k8s.io/apimachinery meta/v1); only what
 * the handlers read is decoded, unknown fields are skipped as protobuf requires.
 */

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export function isKubeProtobuf(body: unknown): body is Uint8Array {
  return body instanceof Uint8Array && body.length >= 4 && Buffer.from(body.subarray(0, 4)).equals(MAGIC);
}

type Field = { number: number; wire: number; value: bigint | Buffer };

export class ProtobufError extends Error {}

/** Decodes a request body, a malformed one being the client's fault (400), as kube-apiserver answers. */
export function fromProtobuf(body: Uint8Array, decode: (body: Uint8Array) => Record<string, unknown>): Record<string, unknown> {
  try {
    return decode(body);
  } catch (error) {
    if (error instanceof ProtobufError) throw new KubeApiError(400, 'BadRequest', `the request body is not a valid protobuf object: ${error.message}`);
    throw error;
  }
}

function readVarint(bytes: Buffer, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = at; i < bytes.length && shift < 70n; i++) {
    const byte = bytes[i]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, i + 1];
    shift += 7n;
  }
  throw new ProtobufError('truncated varint');
}

function fields(bytes: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < bytes.length) {
    const [key, next] = readVarint(bytes, at);
    at = next;
    const number = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [value, after] = readVarint(bytes, at);
      out.push({ number, wire, value });
      at = after;
    } else if (wire === 2) {
      const [length, after] = readVarint(bytes, at);
      const end = after + Number(length);
      if (end > bytes.length) throw new ProtobufError('truncated field');
      out.push({ number, wire, value: bytes.subarray(after, end) });
      at = end;
    } else if (wire === 1) {
      at += 8;
    } else if (wire === 5) {
      at += 4;
    } else {
      throw new ProtobufError(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

const bytesOf = (list: Field[], n: number) => list.filter((f) => f.number === n && f.wire === 2).map((f) => f.value as Buffer);
const stringOf = (list: Field[], n: number) => bytesOf(list, n).at(-1)?.toString('utf8');
const stringsOf = (list: Field[], n: number) => bytesOf(list, n).map((b) => b.toString('utf8'));
const varintOf = (list: Field[], n: number) => list.filter((f) => f.number === n && f.wire === 0).at(-1)?.value as bigint | undefined;
const messageOf = (list: Field[], n: number) => {
  const raw = bytesOf(list, n).at(-1);
  return raw ? fields(raw) : undefined;
};

/** The envelope: apiVersion, kind and the object's own message bytes. */
export function unwrap(body: Uint8Array): { apiVersion: string; kind: string; raw: Buffer } {
  const unknown = fields(Buffer.from(body.subarray(4)));
  const typeMeta = messageOf(unknown, 1) ?? [];
  return { apiVersion: stringOf(typeMeta, 1) ?? '', kind: stringOf(typeMeta, 2) ?? '', raw: bytesOf(unknown, 2).at(-1) ?? Buffer.alloc(0) };
}

function objectMeta(list: Field[] | undefined): Record<string, unknown> {
  if (!list) return {};
  const meta: Record<string, unknown> = {};
  const name = stringOf(list, 1);
  const namespace = stringOf(list, 3);
  if (name) meta['name'] = name;
  if (namespace) meta['namespace'] = namespace;
  return meta;
}

/** An authentication.k8s.io/v1 TokenRequest as JSON (TokenRequestSpec: audiences 1, boundObjectRef 3, expirationSeconds 4). */
export function decodeTokenRequest(body: Uint8Array): Record<string, unknown> {
  const { apiVersion, kind, raw } = unwrap(body);
  const object = fields(raw);
  const spec = messageOf(object, 2) ?? [];
  const decoded: Record<string, unknown> = {};
  const audiences = stringsOf(spec, 1);
  if (audiences.length) decoded['audiences'] = audiences;
  const expiration = varintOf(spec, 4);
  if (expiration !== undefined) decoded['expirationSeconds'] = Number(BigInt.asIntN(64, expiration));
  const bound = messageOf(spec, 3);
  if (bound) {
    decoded['boundObjectRef'] = Object.fromEntries(
      (
        [
          ['kind', stringOf(bound, 1)],
          ['apiVersion', stringOf(bound, 2)],
          ['name', stringOf(bound, 3)],
          ['uid', stringOf(bound, 4)],
        ] as const
      ).filter(([, v]) => v),
    );
  }
  return { apiVersion, kind, metadata: objectMeta(messageOf(object, 1)), spec: decoded };
}

/** A policy/v1 Eviction as JSON (metadata 1, deleteOptions 2: gracePeriodSeconds 1, preconditions 2 {uid 1, resourceVersion 2}, dryRun 5). */
export function decodeEviction(body: Uint8Array): Record<string, unknown> {
  const { apiVersion, kind, raw } = unwrap(body);
  const object = fields(raw);
  const options = messageOf(object, 2);
  const eviction: Record<string, unknown> = { apiVersion, kind, metadata: objectMeta(messageOf(object, 1)) };
  if (options) {
    const deleteOptions: Record<string, unknown> = {};
    const grace = varintOf(options, 1);
    if (grace !== undefined) deleteOptions['gracePeriodSeconds'] = Number(BigInt.asIntN(64, grace));
    const preconditions = messageOf(options, 2);
    if (preconditions) {
      const uid = stringOf(preconditions, 1);
      const resourceVersion = stringOf(preconditions, 2);
      deleteOptions['preconditions'] = { ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) };
    }
    const dryRun = stringsOf(options, 5);
    if (dryRun.length) deleteOptions['dryRun'] = dryRun;
    eviction['deleteOptions'] = deleteOptions;
  }
  return eviction;
}
