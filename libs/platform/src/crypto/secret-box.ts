import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretsConfig } from '../config/config';

export interface Sealed {
  keyId: string;
  /** version (1 byte) | iv (12) | tag (16) | ciphertext */
  sealed: Buffer;
}

const VERSION = 1;

/**
 * AES-256-GCM for secrets kept at rest (kubeconfigs, provider credentials, webhook secrets).
 * The first key of the ring seals; any key in the ring opens, found by the stored key id, so keys
 * rotate by prepending a new one and re-sealing at leisure. The associated data binds a sealed
 * value to the row it belongs to, so a ciphertext copied to another row does not open.
 */
@Injectable()
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly activeKeyId: string;

  constructor(config: SecretsConfig) {
    this.keys = new Map(config.keyring.map((k) => [k.id, k.key]));
    this.activeKeyId = config.keyring[0]!.id;
  }

  seal(plaintext: string, associatedData: string): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.activeKeyId)!, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.activeKeyId, sealed: Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ciphertext]) };
  }

  open(value: Sealed, associatedData: string): string {
    const key = this.keys.get(value.keyId);
    if (!key) throw new Error(`secret sealed with key ${value.keyId}, which is not in SECRETS_KEYS`);
    const data = Buffer.from(value.sealed);
    if (data[0] !== VERSION) throw new Error('unknown sealed-secret format');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(1, 13));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(data.subarray(13, 29));
    return Buffer.concat([decipher.update(data.subarray(29)), decipher.final()]).toString('utf8');
  }
}
