/** An object as Capstan writes it to, or reads it from, the management cluster. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: ManifestMetadata;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface ManifestMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generation?: number;
  deletionTimestamp?: string | Date;
  resourceVersion?: string;
  [field: string]: unknown;
}

/** A reference to another object (Cluster API's v1beta1 `ObjectReference`). */
export interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

export function referenceTo(object: Manifest): ObjectReference {
  return { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace ?? '' };
}
