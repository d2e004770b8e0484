import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from '../errors/problem';

/** What Node's HTTP parser refuses before any route runs, as a problem type and a sentence. */
function refusal(error: NodeJS.ErrnoException): { status: number; type: string; title: string; detail: string } {
  if (error.code === 'HPE_HEADER_OVERFLOW')
    return {
      status: 431,
      type: 'request-header-fields-too-large',
      title: 'The request headers are too large',
      detail: 'the request line and headers together exceed 16 KiB; send a shorter URL or fewer, smaller headers',
    };
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { status: 408, type: 'request-timeout', title: 'Request timeout', detail: 'the request was not received in time' };
  return { status: 400, type: 'malformed-request', title: 'The request is malformed', detail: 'the request is not valid HTTP/1.1' };
}

/**
 * Fastify's `clientErrorHandler`: what the HTTP parser refuses (oversized headers, a broken request
 * line) is answered as problem+json like every other error, where Fastify's default writes its own
 * JSON shape. No route, hook or request id exists yet, so the id is made here; nothing of the
 * request is echoed back.
 */
export function problemClientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one left to answer (Node's documented clientError behaviour).
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, type, title, detail } = refusal(error);
  const body = JSON.stringify({ type: PROBLEM_TYPE_BASE + type, title, status, detail, request_id: `req_${randomUUID().replace(/-/g, '')}` });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
