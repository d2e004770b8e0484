import { apply } from '../client/apply';
import type { TenantClients } from '../client/tenant-clients';
import { baselineManifests } from './baseline-objects';

export interface BaselineResult {
  /** `Kind name` of every object applied, in order. */
  applied: string[];
}

/** Applies the baseline (see baseline-objects.ts) with server-side apply: repeating it changes nothing. */
export async function applyBaseline(clients: TenantClients): Promise<BaselineResult> {
  const applied: string[] = [];
  for (const manifest of baselineManifests()) {
    await apply(clients, manifest);
    applied.push(`${manifest.kind} ${manifest.metadata.namespace ? `${manifest.metadata.namespace}/` : ''}${manifest.metadata.name}`);
  }
  return { applied };
}
