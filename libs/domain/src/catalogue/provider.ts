/** The managed Kubernetes offerings Capstan drives (docs/sla.md, "Targets"): RKE2 on own infrastructure and GKE. */
export type Provider = 'rke2' | 'gke';

export const PROVIDERS: readonly Provider[] = Object.freeze(['rke2', 'gke'] as const);

export function isProvider(value: unknown): value is Provider {
  return value === 'rke2' || value === 'gke';
}
