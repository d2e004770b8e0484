import { ForbiddenError, UnauthenticatedError } from '@capstan/domain';
import ipaddr from 'ipaddr.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpConfig } from '../config/config';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Who may scrape /metrics (docs/http-security.md): anyone unless METRICS_TOKEN or
 * METRICS_ALLOWED_NETWORKS is set; then a client must be in one of the networks and present the
 * token, whichever are set. Metrics name routes, queues and cluster counts: operational detail a
 * stranger has no business reading.
 */
export class MetricsAccess {
  private readonly tokenDigest?: Buffer;
  private readonly networks: [ipaddr.IPv4 | ipaddr.IPv6, number][];

  constructor(config: Pick<HttpConfig, 'metricsToken' | 'metricsAllowedNetworks'>) {
    this.tokenDigest = config.metricsToken ? digest(config.metricsToken) : undefined;
    this.networks = (config.metricsAllowedNetworks ?? []).map((cidr) => ipaddr.parseCIDR(cidr));
  }

  /** Throws a 403 for an address outside the networks, a 401 for a missing or wrong token. */
  assertAllowed(sourceAddress: string, authorization: string | undefined): void {
    if (this.networks.length > 0 && !this.inNetworks(sourceAddress)) {
      throw new ForbiddenError('metrics-network', 'metrics are not served to this network');
    }
    if (this.tokenDigest) {
      const presented = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
      // Digests of equal length, compared in constant time: the token's length leaks nothing either.
      if (!presented || !timingSafeEqual(digest(presented), this.tokenDigest)) {
        throw new UnauthenticatedError('metrics need the configured bearer token (METRICS_TOKEN)');
      }
    }
  }

  private inNetworks(sourceAddress: string): boolean {
    if (!ipaddr.isValid(sourceAddress)) return false;
    const parsed = ipaddr.process(sourceAddress); // ::ffff:10.0.0.1 judged as 10.0.0.1
    return this.networks.some(([network, bits]) => network.kind() === parsed.kind() && parsed.match(network, bits));
  }
}
