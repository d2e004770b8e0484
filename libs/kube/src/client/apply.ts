import { type KubernetesObject, PatchStrategy } from '@kubernetes/client-node';
import type { TenantClients } from './tenant-clients';
import { toKubeError } from './kube-errors';

/** Capstan's name in `managedFields`: what it applied, and what it no longer applies, is its own. */
export const FIELD_MANAGER = 'capstan';

/** A manifest Capstan applies: plain JSON, exactly the fields Capstan owns. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/**
 * Server-side apply with field manager `capstan` and `force`: creates the object or brings the
 * fields Capstan owns back to `manifest`, leaving fields others own alone; applying the same
 * manifest twice changes nothing. `force` takes over fields someone else set by hand, since the
 * baseline and the managed add-ons are Capstan's to keep as declared.
 */
export async function apply(clients: TenantClients, manifest: Manifest): Promise<KubernetesObject> {
  try {
    return await clients.objects.patch(manifest as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  } catch (error) {
    throw toKubeError(error, `applying ${manifest.kind} ${manifest.metadata.namespace ? `${manifest.metadata.namespace}/` : ''}${manifest.metadata.name}`);
  }
}

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'capstan' } as const;
