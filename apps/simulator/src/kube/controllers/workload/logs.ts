import type { SubresourceRegistration, SubresourceRequest } from '../../subresources';
import { KubeApiError } from '../../types';
import { POD, podSpec } from './model';

/**
 * `pods/log` (`kubectl logs`): the emulated kubelet runs no processes, so a running container's
 * log is one line saying so, with its start; the refusals are kube-apiserver's and the kubelet's
 * (400 BadRequest for an unknown container, one not started yet, a missing `container` when the
 * pod has several, `previous` without an earlier run). `follow` answers what there is and ends
 * the stream (nothing more would ever come). Options: `container`, `timestamps`, `tailLines`,
 * `limitBytes`, `previous`.
 */
export const podLogSubresource: SubresourceRegistration = {
  group: '',
  resource: 'pods',
  subresource: 'log',
  handle: podLog,
};

interface ContainerStatus {
  name: string;
  image?: string;
  state?: { running?: { startedAt?: string }; waiting?: { reason?: string }; terminated?: { reason?: string; finishedAt?: string; startedAt?: string } };
  lastState?: { terminated?: unknown };
}

async function podLog(request: SubresourceRequest): Promise<{ body: string; contentType: string }> {
  if (request.verb !== 'get') throw new KubeApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  const pod = await request.server.get({ ...POD, namespace: request.namespace, name: request.name });
  if (!pod) throw new KubeApiError(404, 'NotFound', `pods "${request.name}" not found`, { name: request.name, kind: 'pods' });
  const containers = [...(podSpec(pod).initContainers ?? []), ...(podSpec(pod).containers ?? [])].map((c) => c.name);
  let container = request.query.get('container');
  if (!container) {
    const main = (podSpec(pod).containers ?? []).map((c) => c.name);
    if (main.length !== 1) throw badRequest(`a container name must be specified for pod ${request.name}, choose one of: [${main.join(' ')}]`);
    container = main[0]!;
  }
  if (!containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${request.name}`);
  if (!podSpec(pod).nodeName) throw badRequest(`pod ${request.name} does not have a host assigned`);
  const statuses = [
    ...((pod.status?.['initContainerStatuses'] as ContainerStatus[] | undefined) ?? []),
    ...((pod.status?.['containerStatuses'] as ContainerStatus[] | undefined) ?? []),
  ];
  const status = statuses.find((s) => s.name === container);
  if (request.query.get('previous') === 'true' || request.query.get('previous') === '1') {
    if (!status?.lastState?.terminated) throw badRequest(`previous terminated container "${container}" in pod "${request.name}" not found`);
  }
  const started = status?.state?.running?.startedAt ?? status?.state?.terminated?.startedAt;
  if (!started) {
    const reason = status?.state?.waiting?.reason ?? 'ContainerCreating';
    throw badRequest(`container "${container}" in pod "${request.name}" is waiting to start: ${reason}`);
  }
  const image = (podSpec(pod).containers ?? []).concat(podSpec(pod).initContainers ?? []).find((c) => c.name === container)?.image ?? status?.image;
  let lines = [
    {
      at: started,
      text: `capstan-simulator: container ${container} (image ${String(image)}) started on node ${podSpec(pod).nodeName}; emulated containers run no process and write no other output`,
    },
  ];
  const tail = request.query.get('tailLines');
  if (tail !== null) {
    const count = Number(tail);
    if (!Number.isInteger(count) || count < 0) throw badRequest(`invalid tailLines "${tail}"`);
    lines = count === 0 ? [] : lines.slice(-count);
  }
  const timestamps = request.query.get('timestamps') === 'true' || request.query.get('timestamps') === '1';
  let body = lines.map((l) => `${timestamps ? `${new Date(l.at).toISOString().replace('.000Z', '.000000000Z')} ` : ''}${l.text}\n`).join('');
  const limit = request.query.get('limitBytes');
  if (limit !== null) {
    const bytes = Number(limit);
    if (!Number.isInteger(bytes) || bytes < 1) throw badRequest(`limitBytes: Invalid value: ${limit}: must be greater than 0`);
    body = Buffer.from(body).subarray(0, bytes).toString();
  }
  return { body, contentType: 'text/plain' };
}

function badRequest(message: string): KubeApiError {
  return new KubeApiError(400, 'BadRequest', message);
}
