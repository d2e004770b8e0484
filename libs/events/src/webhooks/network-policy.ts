import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

/**
 * Where webhook deliveries may go: global unicast addresses, and nothing else. A customer who
 * registers `https://10.0.0.5/` or a name that resolves to 169.254.169.254 must not get
 * Capstan's workers to post to the provider's own network, cloud metadata services or loopback
 * (server-side request forgery).
 *
 * An allow-list, not a deny-list: ipaddr.js classifies an address by IANA's special-purpose
 * registries and only what it calls `unicast` passes; an IPv6 address must moreover lie in
 * 2000::/3, the only block IANA allocates for global unicast. So the forms a deny-list forgets
 * are refused: IPv4-compatible `::a9fe:a9fe` (169.254.169.254), Teredo 2001::/32, site-local
 * fec0::/10, NAT64 and 6to4 (which embed IPv4 addresses), and whatever IANA reserves next.
 */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];

/** Whether `address` (an IP literal) is a global unicast address, on the public internet. */
export function isPublicAddress(address: string): boolean {
  if (isIP(address) === 0 || !ipaddr.isValid(address)) return false;
  if (isIP(address) === 4) return ipaddr.IPv4.parse(address).range() === 'unicast';
  // Parsed again from the WHATWG canonical text (what a URL and the socket use): ipaddr.js reads
  // the deprecated IPv4-compatible `::a.b.c.d` as if it were IPv4-mapped.
  let v6: ipaddr.IPv6;
  try {
    v6 = ipaddr.IPv6.parse(new URL(`http://[${address}]/`).hostname.slice(1, -1));
  } catch {
    return false; // a zone id (fe80::1%eth0) or anything else a URL cannot hold
  }
  // Only the canonical IPv4-mapped form (::ffff:a.b.c.d, RFC 4291 2.5.5.2) stands for an IPv4
  // peer and is judged as one; the deprecated IPv4-compatible ::a.b.c.d is not in 2000::/3.
  const parts = v6.parts;
  if (parts.slice(0, 5).every((p) => p === 0) && parts[5] === 0xffff) return isPublicAddress(v6.toIPv4Address().toString());
  return v6.range() === 'unicast' && v6.match(GLOBAL_UNICAST_V6);
}

/**
 * Why a URL's host is refused before any lookup, or null: IP literals off the public internet
 * and names that always mean this machine. Names are checked again, resolved, at every delivery.
 */
export function hostProblem(hostname: string): string | null {
  const host = hostname
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase()
    .replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'must not point at this machine (localhost)';
  if (isIP(host) !== 0 && !isPublicAddress(host)) return 'must not point at a private, loopback, link-local or reserved address';
  return null;
}
