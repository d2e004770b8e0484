import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * X.509 certificates for the simulated API servers: one long-lived certificate authority (stored
 * by the simulator so kubeconfigs stay valid across restarts) and a serving certificate it signs
 * at every start.
 *
 * Why by hand rather than a package: Node can sign and verify but not build certificates, and the
 * two certificates we need are a few fixed DER structures (RFC 5280). ECDSA P-256 keys generate
 * in a millisecond, where the pure-JS RSA of the usual packages takes seconds. The tests check
 * the output with Node's own X509Certificate and a real TLS handshake.
 */

export interface CertificateAuthority {
  certificatePem: string;
  privateKeyPem: string;
}

export interface ServingCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

const DAY_MS = 24 * 3_600_000;

export function createCertificateAuthority(commonName: string, now = new Date()): CertificateAuthority {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const subject = distinguishedName(commonName);
  const certificate = buildCertificate({
    subject,
    issuer: subject,
    publicKey,
    signingKey: privateKey,
    authorityKeyId: keyIdentifier(publicKey),
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 10 * 365 * DAY_MS),
    extensions: [
      extension('2.5.29.19', true, sequence(boolean(true))), // basicConstraints: CA
      extension('2.5.29.15', true, keyUsage({ digitalSignature: true, keyCertSign: true, cRLSign: true })),
    ],
  });
  return { certificatePem: pem('CERTIFICATE', certificate), privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** A server certificate for `hosts` (DNS names or IP addresses), signed by `authority`. */
export function issueServingCertificate(authority: CertificateAuthority, hosts: string[], now = new Date()): ServingCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caKey = createPrivateKey(authority.privateKeyPem);
  const caPublicKey = createPublicKey(caKey);
  const certificate = buildCertificate({
    subject: distinguishedName('kube-apiserver'),
    issuer: subjectOf(authority.certificatePem),
    publicKey,
    signingKey: caKey,
    authorityKeyId: keyIdentifier(caPublicKey),
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 365 * DAY_MS),
    extensions: [
      extension('2.5.29.19', true, sequence()), // basicConstraints: not a CA
      extension('2.5.29.15', true, keyUsage({ digitalSignature: true })),
      extension('2.5.29.37', false, sequence(objectId('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
      extension('2.5.29.17', false, subjectAltNames(hosts)),
    ],
  });
  return { certificatePem: pem('CERTIFICATE', certificate), privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

interface CertificateFields {
  subject: Buffer;
  issuer: Buffer;
  publicKey: KeyObject;
  signingKey: KeyObject;
  authorityKeyId: Buffer;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}

function buildCertificate(fields: CertificateFields): Buffer {
  const ecdsaWithSha256 = sequence(objectId('1.2.840.10045.4.3.2'));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and without a leading zero byte
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ecdsaWithSha256,
    fields.issuer,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subject,
    fields.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      sequence(
        ...fields.extensions,
        extension('2.5.29.14', false, octetString(keyIdentifier(fields.publicKey))),
        extension('2.5.29.35', false, sequence(tagged(0x80, fields.authorityKeyId))),
      ),
    ),
  );
  // For EC keys Node produces the DER-encoded ECDSA-Sig-Value X.509 expects.
  const signature = sign('sha256', tbs, fields.signingKey);
  return sequence(tbs, ecdsaWithSha256, bitString(signature));
}

/**
 * The subject of a certificate as its exact DER bytes: an issuer name must match its CA's subject,
 * and copying the bytes is simpler than agreeing on a canonical form.
 */
function subjectOf(certificatePem: string): Buffer {
  const der = Buffer.from(certificatePem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  const certificate = readElement(der, 0);
  const tbs = readElement(der, certificate.contentStart);
  let offset = tbs.contentStart;
  // version [0], serialNumber, signature, issuer, validity, then subject.
  for (let skip = 0; skip < 5; skip += 1) offset = readElement(der, offset).end;
  const subject = readElement(der, offset);
  return der.subarray(offset, subject.end);
}

function readElement(der: Buffer, offset: number): { contentStart: number; end: number } {
  const first = der[offset + 1]!;
  if (first < 0x80) return { contentStart: offset + 2, end: offset + 2 + first };
  const octets = first & 0x7f;
  let size = 0;
  for (let i = 0; i < octets; i += 1) size = size * 256 + der[offset + 2 + i]!;
  return { contentStart: offset + 2 + octets, end: offset + 2 + octets + size };
}

function distinguishedName(commonName: string): Buffer {
  return sequence(set(sequence(objectId('2.5.4.3'), utf8String(commonName))));
}

function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(objectId(oid), boolean(true), octetString(value)) : sequence(objectId(oid), octetString(value));
}

function keyUsage(usage: { digitalSignature?: boolean; keyCertSign?: boolean; cRLSign?: boolean }): Buffer {
  // Bit 0 is the most significant bit of the first byte; DER drops trailing zero bits.
  let bits = 0;
  if (usage.digitalSignature) bits |= 0x80;
  if (usage.keyCertSign) bits |= 0x04;
  if (usage.cRLSign) bits |= 0x02;
  let unused = 0;
  while (unused < 7 && (bits & (1 << unused)) === 0) unused += 1;
  return tagged(0x03, Buffer.from([unused, bits]));
}

function subjectAltNames(hosts: string[]): Buffer {
  const names = [...new Set(hosts)].map((host) => {
    const family = isIP(host);
    if (family === 4) return tagged(0x87, Buffer.from(host.split('.').map(Number)));
    if (family === 6) return tagged(0x87, ipv6Bytes(host));
    return tagged(0x82, Buffer.from(host, 'ascii'));
  });
  return sequence(...names);
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const front = groups(head);
  const back = groups(tail);
  const all = tail === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  const bytes = Buffer.alloc(16);
  all.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  return bytes;
}

// --- DER encoding (X.690), just the types certificates use -------------------------------------

function tagged(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const sequence = (...items: Buffer[]) => tagged(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tagged(0x31, Buffer.concat(items));
const explicit = (n: number, content: Buffer) => tagged(0xa0 + n, content);
const boolean = (value: boolean) => tagged(0x01, Buffer.from([value ? 0xff : 0x00]));
const octetString = (content: Buffer) => tagged(0x04, content);
const bitString = (content: Buffer) => tagged(0x03, Buffer.concat([Buffer.from([0]), content]));
const utf8String = (value: string) => tagged(0x0c, Buffer.from(value, 'utf8'));

function integer(value: Buffer): Buffer {
  return tagged(0x02, value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

function objectId(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tagged(0x06, Buffer.from(bytes));
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 section 4.1.2.5 requires. */
function time(date: Date): Buffer {
  const iso = date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:T]/g, '');
  return date.getUTCFullYear() < 2050 ? tagged(0x17, Buffer.from(iso.slice(2), 'ascii')) : tagged(0x18, Buffer.from(iso, 'ascii'));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
