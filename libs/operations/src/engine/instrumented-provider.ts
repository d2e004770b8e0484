import type { Metrics } from '@capstan/platform';
import { type ClusterProvider, ProviderError } from '@capstan/providers';

/**
 * The provider a step sees, with every driver call timed and its failures counted by provider,
 * call and error code (docs/observability.md). The call name is the driver method's, a bounded
 * set; a cache keeps one wrapper per driver and provider, so steps pay no allocation per call.
 */
export function instrumentedProvider(provider: ClusterProvider, name: string, metrics: Metrics): ClusterProvider {
  let perMetrics = cache.get(metrics);
  if (!perMetrics) cache.set(metrics, (perMetrics = new WeakMap()));
  const known = perMetrics.get(provider)?.get(name);
  if (known) return known;
  const wrapped = new Proxy(provider, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        const started = performance.now();
        const observe = (outcome: 'ok' | 'error') =>
          metrics.providerCallDuration.observe({ provider: name, call: property, outcome }, (performance.now() - started) / 1000);
        try {
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          observe('ok');
          return result;
        } catch (error) {
          observe('error');
          metrics.providerCallErrors.inc({ provider: name, call: property, code: codeOf(error) });
          throw error;
        }
      };
    },
  });
  const perProvider = perMetrics.get(provider) ?? new Map<string, ClusterProvider>();
  perProvider.set(name, wrapped);
  perMetrics.set(provider, perProvider);
  return wrapped;
}

/** Error codes come from the provider's answers: anything not shaped like one is `other`, so a label stays bounded. */
function codeOf(error: unknown): string {
  if (!(error instanceof ProviderError)) return 'unexpected';
  return /^[a-z0-9_]{1,40}$/.test(error.code) ? error.code : 'other';
}

/** Per registry (tests run several processes in one), per driver, per provider name. */
const cache = new WeakMap<Metrics, WeakMap<ClusterProvider, Map<string, ClusterProvider>>>();
