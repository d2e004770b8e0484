import type { ApiServerClient, ApiServerInfo, KubeEmulator } from './types';

/**
 * Subresources that are behaviour rather than storage (`pods/eviction`, `serviceaccounts/token`,
 * ...) are served by handlers the engineers of that behaviour register with
 * `KubeEmulatorRuntime.registerSubresource` (listed in controllers/index.ts). `status` is built in.
 */
export interface SubresourceRequest {
  verb: 'get' | 'create' | 'update' | 'patch';
  server: ApiServerClient;
  info: ApiServerInfo;
  emulator: KubeEmulator;
  /** Absent for cluster-scoped resources. */
  namespace?: string;
  /** The parent object's name (`/namespaces/ns/pods/<name>/eviction`). */
  name: string;
  /** The parsed JSON body (null for GET). */
  body: unknown;
  query: URLSearchParams;
  /** Who writes (the `fieldManager` parameter, else the User-Agent's product), for managedFields; absent for in-process calls. */
  fieldManager?: string;
}

/**
 * Answer with `body` (an object) and `status` (default 200, 201 for create); throw KubeApiError
 * for a `Status` error. With `contentType`, `body` is a string sent as is (`pods/log`: text/plain).
 */
export interface SubresourceResponse {
  status?: number;
  body: unknown;
  contentType?: string;
}

export interface SubresourceRegistration {
  /** '' for the core group. */
  group: string;
  /** Plural, e.g. `pods`. */
  resource: string;
  /** e.g. `eviction`. */
  subresource: string;
  handle(request: SubresourceRequest): Promise<SubresourceResponse>;
}
