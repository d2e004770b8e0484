import { SecretBox } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { createHmac, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** What a webhook row keeps of its secret. */
export interface SealedWebhookSecret {
  id: string;
  secretKeyId: string;
  secretSealed: Uint8Array;
}

/**
 * Webhook signing secrets. Unlike API tokens they cannot be stored hashed (signing needs the
 * secret itself), so they are sealed with AES-256-GCM, bound to their row by the associated data
 * `webhook:<id>`: a sealed secret copied onto another webhook does not open.
 */
@Injectable()
export class WebhookSecrets {
  constructor(private readonly box: SecretBox) {}

  /** A fresh secret, `whsec_` + base64 of 32 random bytes (the Standard Webhooks format). */
  issue(webhookId: string): { secret: string; secretKeyId: string; secretSealed: Uint8Array<ArrayBuffer> } {
    const secret = SECRET_PREFIX + randomBytes(32).toString('base64');
    const sealed = this.box.seal(secret, associatedData(webhookId));
    return { secret, secretKeyId: sealed.keyId, secretSealed: new Uint8Array(sealed.sealed) };
  }

  open(webhook: SealedWebhookSecret): string {
    return this.box.open({ keyId: webhook.secretKeyId, sealed: Buffer.from(webhook.secretSealed) }, associatedData(webhook.id));
  }
}

function associatedData(webhookId: string): string {
  return `webhook:${webhookId}`;
}

/**
 * The `webhook-signature` header of the Standard Webhooks specification
 * (https://www.standardwebhooks.com, "Signature scheme"): `v1,` + base64 of HMAC-SHA256 over
 * `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the base64-decoded part of the secret
 * after `whsec_`. Receivers can verify it with any Standard Webhooks library; the timestamp (Unix
 * seconds, signed too) lets them refuse replays.
 */
export function signWebhook(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('not a webhook signing secret');
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64')}`;
}
