import { createConfiguration, KubeConfig, type KubernetesObject, KubernetesObjectApi, ServerConfiguration } from '@kubernetes/client-node';
import { ProviderError } from '../../cluster-provider';
import { kubeNetworkReason, kubeStatusBody, kubeStatusCode } from '../../kube-answers';
import type { Manifest } from '../manifest';

export interface WorkloadKey {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/**
 * A workload cluster as the backup driver reaches it: through the admin kubeconfig CAPRKE2 wrote
 * into `<cluster>-kubeconfig` on the management cluster (its `value`, base64 YAML). Reads and
 * writes of Velero's objects and RKE2's snapshot listing; failures become ProviderErrors that
 * name the cluster (network, 5xx, 429 and conflicts retryable; the rest final).
 */
export class WorkloadCluster {
  private constructor(
    readonly cluster: string,
    private readonly api: KubernetesObjectApi,
  ) {}

  /** Null when the Secret holds no usable kubeconfig yet. */
  static fromKubeconfigSecret(cluster: string, secret: { data?: Record<string, string> } | null, timeoutMs: number): WorkloadCluster | null {
    const encoded = secret?.data?.value;
    if (!encoded) return null;
    const config = new KubeConfig();
    try {
      config.loadFromString(Buffer.from(encoded, 'base64').toString('utf8'));
    } catch {
      return null;
    }
    const current = config.getCurrentCluster();
    if (!current) return null;
    const api = new KubernetesObjectApi(
      createConfiguration({
        baseServer: new ServerConfiguration(current.server, {}),
        authMethods: { default: config },
        promiseMiddleware: [{ pre: async (context) => (context.setSignal(AbortSignal.timeout(timeoutMs)), context), post: async (response) => response }],
      }),
    );
    return new WorkloadCluster(cluster, api);
  }

  async get(key: WorkloadKey, doing: string): Promise<Manifest | null> {
    try {
      return (await this.api.read(header(key))) as unknown as Manifest;
    } catch (error) {
      if (kubeStatusCode(error) === 404 && !notServed(error)) return null;
      throw this.failure(error, doing, key.kind);
    }
  }

  /** Creates `object`, or answers the one of that name already there (`created: false`). */
  async create(object: Manifest, doing: string): Promise<{ object: Manifest; created: boolean }> {
    try {
      return { object: (await this.api.create(object as unknown as KubernetesObject, undefined, undefined, 'capstan')) as unknown as Manifest, created: true };
    } catch (error) {
      if (kubeStatusCode(error) !== 409) throw this.failure(error, doing, object.kind);
    }
    const existing = await this.get(
      { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace },
      doing,
    );
    if (!existing)
      throw new ProviderError(
        `${object.kind} ${object.metadata.name} on cluster ${this.cluster} was being deleted while ${doing}; Capstan retries`,
        true,
        'provider_conflict',
      );
    return { object: existing, created: false };
  }

  async list(apiVersion: string, kind: string, doing: string, namespace?: string): Promise<Manifest[]> {
    try {
      return (await this.api.list(apiVersion, kind, namespace)).items as unknown as Manifest[];
    } catch (error) {
      throw this.failure(error, doing, kind);
    }
  }

  private failure(error: unknown, doing: string, kind: string): ProviderError {
    if (error instanceof ProviderError) return error;
    const code = kubeStatusCode(error);
    const reason = kubeNetworkReason(error);
    if (code === null && reason)
      return new ProviderError(`cluster ${this.cluster} did not answer while ${doing} (${reason}); Capstan retries`, true, 'cluster_unreachable');
    if (code === 404 && notServed(error)) {
      if (kind === 'Backup' || kind === 'Restore' || kind === 'DeleteBackupRequest')
        return new ProviderError(
          `Velero is not installed on cluster ${this.cluster}: enable the velero add-on on it ${kind === 'Restore' ? 'to restore workload backups into it' : 'to take workload backups'}`,
          false,
          'velero_missing',
        );
      return new ProviderError(`cluster ${this.cluster} does not serve ${kind}, which ${doing} needs`, false, 'provider_not_found');
    }
    const said = code === null ? '' : kubeStatusBody(error).message;
    const detail = said ? `: ${said}` : '';
    if (code === null) return new ProviderError(`${doing} failed on cluster ${this.cluster}`, false, 'provider_error');
    if (code === 429 || code >= 500 || (code === 409 && kubeStatusBody(error).reason !== 'AlreadyExists'))
      return new ProviderError(`cluster ${this.cluster} could not take ${doing} now (HTTP ${code})${detail}; Capstan retries`, true, 'provider_unavailable');
    return new ProviderError(`cluster ${this.cluster} refused ${doing} (HTTP ${code})${detail}`, false, 'provider_rejected');
  }
}

function header(key: WorkloadKey) {
  return { apiVersion: key.apiVersion, kind: key.kind, metadata: { name: key.name, ...(key.namespace ? { namespace: key.namespace } : {}) } };
}

/** KubernetesObjectApi looks kinds up by discovery first: a kind the server does not serve is a 404 with this prefix. */
function notServed(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Failed to fetch resource metadata');
}
