import { request } from 'node:https';

/** GET over HTTPS trusting only `ca`, as kubectl does with a kubeconfig's certificate-authority-data. */
export function httpsGet(url: string, options: { ca: string; token?: string; servername?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        ca: options.ca,
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
        timeout: 5_000,
        ...(options.servername ? { servername: options.servername } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
