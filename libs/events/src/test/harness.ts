import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() when the request arrived. */
  at: number;
}

/** A local webhook receiver that answers with whatever `respond` decides (a status, maybe late). */
export interface TestEndpoint {
  url: string;
  received: ReceivedRequest[];
  /** Resolves once `count` requests have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export type EndpointAnswer = number | { status: number; headers: Record<string, string> };

export async function startEndpoint(
  respond: (request: ReceivedRequest, index: number) => EndpointAnswer | Promise<EndpointAnswer> = () => 204,
): Promise<TestEndpoint> {
  const received: ReceivedRequest[] = [];
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() };
      const index = received.push(request) - 1;
      waiters.splice(0).forEach((wake) => wake());
      void Promise.resolve(respond(request, index)).then(
        (answer) => (typeof answer === 'number' ? res.writeHead(answer).end() : res.writeHead(answer.status, answer.headers).end()),
        () => res.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = performance.now() + timeoutMs;
      while (received.length < count) {
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`expected ${count} requests, got ${received.length}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return received.slice(0, count);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Verifies a delivery the way a receiver following the Standard Webhooks specification does,
 * written from the specification rather than from our signer.
 */
export function verifiesWithSecret(secret: string, request: ReceivedRequest): boolean {
  const id = String(request.headers['webhook-id']);
  const timestamp = String(request.headers['webhook-timestamp']);
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${request.body}`).digest();
  return String(request.headers['webhook-signature'])
    .split(' ')
    .some((signature) => {
      const [version, value] = signature.split(',');
      const given = Buffer.from(value ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

/** A pause that does not keep jest alive after the tests (endpoints that hang outlive them). */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
