import { UnprocessableError } from '@capstan/domain';
import { hostProblem } from './network-policy';

export interface WebhookUrlPolicy {
  /** `http://` endpoints too (development and tests); otherwise `https://` only. */
  allowPlainHttp: boolean;
  /** Endpoints on loopback and private networks (development and tests); otherwise refused. */
  allowPrivateNetworks: boolean;
}

/**
 * Why an endpoint URL is refused, or null if it is acceptable. Plain http is only for development
 * and tests (`WEBHOOKS_ALLOW_PLAIN_HTTP`): event payloads describe customers' infrastructure and
 * must not cross the internet in clear. Credentials in the URL are refused because the URL is
 * shown back in every listing and log line; endpoints authenticate deliveries by the signature.
 * Hosts off the public internet are refused (server-side request forgery); a name that resolves
 * to one is caught at delivery, where the address actually connected to is checked.
 */
export function webhookUrlProblem(value: string, { allowPlainHttp, allowPrivateNetworks }: WebhookUrlPolicy): string | null {
  // The URL parser silently drops tabs and line breaks; a URL that held them is refused, not
  // "repaired" into something other than what the customer will see in the listing.
  if (/[\p{Cc}\s]/u.test(value)) return 'must not contain spaces, line breaks or other control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && !(allowPlainHttp && url.protocol === 'http:')) {
    return allowPlainHttp ? 'must be an http:// or https:// URL' : 'must be an https:// URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (user:password@); deliveries are authenticated by their signature';
  if (url.hostname === '') return 'must name a host';
  return allowPrivateNetworks ? null : hostProblem(url.hostname);
}

export function assertWebhookUrl(value: string, policy: WebhookUrlPolicy): void {
  const problem = webhookUrlProblem(value, policy);
  if (problem) throw new UnprocessableError('webhook-url-refused', `url ${problem}`, { field: 'url' });
}
