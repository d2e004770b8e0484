import { randomBytes } from 'node:crypto';
import { SecretsConfig } from '../config/config';
import { SecretBox } from './secret-box';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('SecretBox', () => {
  it('opens what it sealed, and the sealed bytes do not contain the secret', () => {
    const box = new SecretBox(new SecretsConfig([key('k1')]));
    const sealed = box.seal('apiVersion: v1\nusers: [token: s3cret]', 'cluster:cl_1');
    expect(sealed.keyId).toBe('k1');
    expect(sealed.sealed.toString('utf8')).not.toContain('s3cret');
    expect(box.open(sealed, 'cluster:cl_1')).toBe('apiVersion: v1\nusers: [token: s3cret]');
  });

  it('refuses a ciphertext moved to another row or tampered with', () => {
    const box = new SecretBox(new SecretsConfig([key('k1')]));
    const sealed = box.seal('secret', 'cluster:cl_1');
    expect(() => box.open(sealed, 'cluster:cl_2')).toThrow();
    const tampered = Buffer.from(sealed.sealed);
    tampered[tampered.length - 1] ^= 1;
    expect(() => box.open({ keyId: 'k1', sealed: tampered }, 'cluster:cl_1')).toThrow();
  });

  it('rotates: a new first key seals, the retired key still opens old values', () => {
    const old = key('k1');
    const sealedWithOld = new SecretBox(new SecretsConfig([old])).seal('secret', 'x');
    const rotated = new SecretBox(new SecretsConfig([key('k2'), old]));
    expect(rotated.open(sealedWithOld, 'x')).toBe('secret');
    expect(rotated.seal('secret', 'x').keyId).toBe('k2');
    expect(() => new SecretBox(new SecretsConfig([key('k3')])).open(sealedWithOld, 'x')).toThrow(/not in SECRETS_KEYS/);
  });
});
