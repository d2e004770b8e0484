import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BoardAdapter } from '@bull-board/fastify';
import { DomainError, ForbiddenError, UnauthenticatedError } from '@capstan/domain';
import { openOperationsQueue } from '@capstan/operations';
import { HttpConfig, RedisConnections, sendProblem } from '@capstan/platform';
import { BOARD_COOKIE, BOARD_PATH, boardCookie, BoardSessions, cookieValue, servedOverHttps } from '@capstan/tenancy';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Bull Board's page loads its own scripts, styles and fonts; nothing from elsewhere runs, and it is never framed. */
const BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
  "font-src 'self' data: https://fonts.gstatic.com",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join(';');

/** The sign-in page: a form and nothing that runs. */
const SIGN_IN_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const FORM = 'application/x-www-form-urlencoded';

/**
 * The staff queue board (Bull Board) under /admin/queues (docs/observability.md, "Queue board").
 * Browsers cannot send bearer tokens, so the board answers only to the session cookie that
 * `POST /admin/v1/session` sets; the cookie is scoped to this path and nothing else reads it, so
 * it never stands in for a bearer token on /v1 or /admin/v1. Changes (retry, promote, remove,
 * clean, pause) also need an Origin header naming this server: with SameSite=Strict, that is the
 * CSRF defence for browsers too old to honour SameSite.
 */
export async function mountQueueBoard(app: NestFastifyApplication): Promise<void> {
  const sessions = app.get(BoardSessions);
  const http = app.get(HttpConfig);
  const queue = openOperationsQueue(app.get(RedisConnections));
  const logger = new Logger('QueueBoard');
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  fastify.addHook('onClose', async () => queue.close());

  const boardUi = new BoardAdapter();
  boardUi.setBasePath(BOARD_PATH);
  // `as never`: the adapter declares its types against its own nested copy of @bull-board/api
  // (6.14.1 beside our 6.14.2); the two agree at runtime, only their private fields differ.
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: false })],
    serverAdapter: boardUi as never,
    options: { uiConfig: { boardTitle: 'Capstan queues' } },
  });

  await app.register(
    async (board: FastifyInstance) => {
      // Browsers sign in here with a staff token; everything else under the prefix wants the session.
      await board.register(async (signIn: FastifyInstance) => {
        signIn.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => {
          done(null, Object.fromEntries(new URLSearchParams(String(body))));
        });
        signIn.get('/login', async (_request, reply) => signInPage(reply, 200));
        signIn.post('/login', async (request, reply) => {
          try {
            // A login CSRF would sign the victim into the attacker's session: the same Origin rule as for changes.
            if (!sameOrigin(request, http)) throw new ForbiddenError('cross-origin', 'signing in to the queue board needs an Origin header naming this server');
            const token = (request.body as Record<string, unknown> | undefined)?.token;
            if (typeof token !== 'string' || token.length === 0 || token.length > 200) throw new UnauthenticatedError('a staff API token is required');
            const { secret } = await sessions.openWithStaffToken(token, request.ip);
            void reply.header(
              'set-cookie',
              boardCookie(BOARD_COOKIE, secret, { path: BOARD_PATH, maxAgeSeconds: sessions.ttlSeconds, secure: servedOverHttps(request, http) }),
            );
            return reply.code(303).header('location', `${BOARD_PATH}/`).send();
          } catch (error) {
            if (wantsHtml(request) && error instanceof DomainError && error.kind === 'unauthenticated') return signInPage(reply, 401, error.message);
            sendProblem(request, reply, error, logger, false);
            return reply;
          }
        });
      });

      await board.register(async (scope: FastifyInstance) => {
        scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
          try {
            const staff = await sessions.caller(cookieValue(request.headers.cookie, BOARD_COOKIE));
            if (!staff) {
              // A person at a browser gets the sign-in form; an API client its problem.
              if (request.method === 'GET' && wantsHtml(request)) return signInPage(reply, 401);
              throw new UnauthenticatedError('the queue board needs a staff session: POST /admin/v1/session with a staff bearer token (docs/observability.md)');
            }
            if (!SAFE_METHODS.has(request.method) && !sameOrigin(request, http)) {
              throw new ForbiddenError('cross-origin', 'changes on the queue board need an Origin header naming this server');
            }
          } catch (error) {
            sendProblem(request, reply, error, logger, false);
            return reply;
          }
        });
        scope.addHook('onSend', async (_request, reply, payload) => {
          // The board is a page, not JSON: its own policy instead of the API's `default-src 'none'`.
          if (String(reply.getHeader('content-type') ?? '').startsWith('text/html') && reply.statusCode === 200)
            void reply.header('content-security-policy', BOARD_CSP);
          void reply.header('cache-control', 'no-store');
          return payload;
        });
        // Signing out ends the session at once and deletes the cookie.
        scope.post('/logout', async (request, reply) => {
          await sessions.close(cookieValue(request.headers.cookie, BOARD_COOKIE));
          void reply.header('set-cookie', boardCookie(BOARD_COOKIE, '', { path: BOARD_PATH, maxAgeSeconds: 0, secure: servedOverHttps(request, http) }));
          return reply.code(204).send();
        });
        await scope.register(boardUi.registerPlugin() as never);
      });
    },
    { prefix: BOARD_PATH },
  );
}

function wantsHtml(request: FastifyRequest): boolean {
  return String(request.headers.accept ?? '').includes('text/html');
}

/** The sign-in form (a browser cannot send a bearer token); a message is HTML-escaped. */
function signInPage(reply: FastifyReply, status: number, message?: string): FastifyReply {
  const note = message ? `<p role="alert">${escapeHtml(message)}</p>` : '';
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', SIGN_IN_CSP)
    .header('cache-control', 'no-store')
    .send(
      `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Capstan queues: sign in</title></head>` +
        `<body style="font-family:sans-serif;max-width:30em;margin:4em auto"><h1>Capstan queues</h1>${note}` +
        `<form method="post" action="${BOARD_PATH}/login"><label>Staff API token (operator or admin)<br>` +
        `<input type="password" name="token" autocomplete="off" required maxlength="200" style="width:100%"></label>` +
        `<p><button type="submit">Sign in</button></p></form>` +
        `<p>Signed in through OIDC? Exchange your access token: <code>POST /admin/v1/session</code> (docs/observability.md).</p></body></html>`,
    );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The request's Origin is this server as the browser reached it, or the configured public URL. */
function sameOrigin(request: FastifyRequest, http: Pick<HttpConfig, 'publicUrl'>): boolean {
  const origin = request.headers.origin;
  if (!origin) return false;
  const own = new Set([`${request.protocol}://${request.host}`]);
  try {
    own.add(new URL(http.publicUrl).origin);
  } catch {
    // No usable public URL: only the request's own origin counts.
  }
  return own.has(origin);
}
