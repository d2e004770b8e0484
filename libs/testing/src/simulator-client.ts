/** Test-side calls to the simulated cloud's own API (faults, stats): what an operator's tools do. */
export async function simulatorCall<T = unknown>(apiUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/** How many times the simulated cloud created each object of `kind`, by name. */
export async function creationsByName(apiUrl: string, kind: 'cluster' | 'nodePool' | 'node'): Promise<Record<string, number>> {
  const { items } = await simulatorCall<{ items: { name: string; creates: number }[] }>(apiUrl, 'GET', `/v1/stats/objects?kind=${kind}`);
  return Object.fromEntries(items.map((i) => [i.name, i.creates]));
}
