import { createConfiguration, type KubeConfig, type KubernetesObject, KubernetesObjectApi, PatchStrategy, ServerConfiguration } from '@kubernetes/client-node';
import { hostOf, outageLog } from '@capstan/platform';
import { ProviderError } from '../cluster-provider';
import { kubeStatusCode, toProviderError } from './kube-errors';
import type { Manifest } from './manifest';

/** Which object, in the driver's namespace. */
export interface ObjectKey {
  apiVersion: string;
  kind: string;
  name: string;
}

/** Identifies Capstan's writes in `managedFields`. */
const FIELD_MANAGER = 'capstan';

/**
 * The I/O half of the driver: reads and writes of objects in one namespace of the management
 * cluster through `@kubernetes/client-node`'s KubernetesObjectApi (which finds each kind's
 * resource path by discovery, CRDs included), with every failure mapped to a ProviderError by
 * `toProviderError` and every request bounded by `timeoutMs`.
 */
export class ManagementCluster {
  private readonly api: KubernetesObjectApi;
  /** The configured server's host, named in the outage log when it does not answer. */
  private readonly host: string | undefined;

  constructor(
    config: KubeConfig,
    readonly namespace: string,
    timeoutMs: number,
  ) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('the management cluster kubeconfig has no current cluster');
    this.host = hostOf(cluster.server);
    this.api = new KubernetesObjectApi(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: config },
        // A request the management cluster never answers must not hold a worker: it fails as retryable.
        // Any answer, even a refusal, means it is reachable: an outage of it that a request met is over.
        promiseMiddleware: [
          {
            pre: async (context) => (context.setSignal(AbortSignal.timeout(timeoutMs)), context),
            post: async (response) => (outageLog.succeeded('management-cluster'), response),
          },
        ],
      }),
    );
  }

  /** The object, or null when there is none. */
  async get(key: ObjectKey, doing: string): Promise<Manifest | null> {
    try {
      return asManifest(await this.api.read(this.header(key)));
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw toProviderError(error, doing, this.host);
    }
  }

  /** Creates `object`; when its name is taken, answers what is there instead (`created: false`). */
  async create(object: Manifest, doing: string): Promise<{ object: Manifest; created: boolean }> {
    try {
      return { object: asManifest(await this.api.create(this.inNamespace(object), undefined, undefined, FIELD_MANAGER)), created: true };
    } catch (error) {
      if (kubeStatusCode(error) !== 409) throw toProviderError(error, doing, this.host);
    }
    const existing = await this.get(keyOf(object), doing);
    // Taken a moment ago and gone already (deleted meanwhile): the caller's retry starts over.
    if (!existing)
      throw new ProviderError(`${object.kind} ${object.metadata.name} was being deleted while ${doing}; Capstan retries`, true, 'provider_conflict');
    return { object: existing, created: false };
  }

  /** RFC 7386 JSON merge patch; null values remove fields. */
  async mergePatch(key: ObjectKey, patch: Record<string, unknown>, doing: string): Promise<Manifest> {
    try {
      const body = { ...patch, apiVersion: key.apiVersion, kind: key.kind, metadata: { ...((patch.metadata as object) ?? {}), ...this.header(key).metadata } };
      return asManifest(await this.api.patch(body as KubernetesObject, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch));
    } catch (error) {
      throw toProviderError(error, doing, this.host);
    }
  }

  /** Asks for deletion (background: Cluster API's finalizers take dependents down); absent is fine. */
  async delete(key: ObjectKey, doing: string): Promise<void> {
    try {
      await this.api.delete(this.header(key), undefined, undefined, undefined, undefined, 'Background');
    } catch (error) {
      if (isMissingObject(error)) return;
      throw toProviderError(error, doing, this.host);
    }
  }

  async list(apiVersion: string, kind: string, labelSelector: string, doing: string): Promise<Manifest[]> {
    try {
      const list = await this.api.list(apiVersion, kind, this.namespace, undefined, undefined, undefined, undefined, labelSelector);
      return list.items.map(asManifest);
    } catch (error) {
      throw toProviderError(error, doing, this.host);
    }
  }

  private header(key: ObjectKey) {
    return { apiVersion: key.apiVersion, kind: key.kind, metadata: { name: key.name, namespace: this.namespace } };
  }

  private inNamespace(object: Manifest): KubernetesObject {
    return { ...object, metadata: { ...object.metadata, namespace: this.namespace } } as KubernetesObject;
  }
}

/** A key for an object the driver built. */
export function keyOf(object: Manifest): ObjectKey {
  return { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name };
}

/**
 * A 404 about the object itself. KubernetesObjectApi first looks the kind up by discovery, and a
 * group the server does not serve also answers 404 (then with its own message prefix): that is a
 * broken installation, never "absent".
 */
function isMissingObject(error: unknown): boolean {
  return kubeStatusCode(error) === 404 && !(error instanceof Error && error.message.startsWith('Failed to fetch resource metadata'));
}

/** The client's objects carry dates as Date; the driver reads them only for presence. */
function asManifest(object: KubernetesObject): Manifest {
  return object as unknown as Manifest;
}
