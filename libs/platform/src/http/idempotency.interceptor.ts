import { ConflictError, UnauthenticatedError, UnprocessableError, ValidationError } from '@capstan/domain';
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { ClsService } from 'nestjs-cls';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { Clock } from '../clock';
import { HttpConfig } from '../config/config';
import { Database } from '../database/database';
import { jsonb } from '../database/unit-of-work';
import { responseHeadersOf } from './response-headers';

/**
 * Whose keys a request's Idempotency-Key lives among (an organisation, or one staff member), set
 * in CLS by whatever authenticates the caller (tenancy's AccessGuard).
 */
export const IDEMPOTENCY_SCOPE = 'capstan:idempotency-scope';

const KEY = /^[A-Za-z0-9._:-]{1,255}$/;
const RETENTION_MS = 24 * 3600 * 1000;
/** A placeholder's status while the first request with the key is still being served. */
const IN_FLIGHT = 0;
const REPLAYED_HEADERS = ['location', 'etag'];

/**
 * `Idempotency-Key` on writes (IETF draft httpapi-idempotency-key-header): the first answer is
 * kept for 24 h and replayed for the same key and body; the same key with another body is a 422;
 * a retry while the first is still running is a 409. The key is claimed before the handler runs,
 * so two concurrent retries cannot both create.
 *
 * The claim is a lease of IDEMPOTENCY_LEASE_MS (about a request's longest run), extended to the
 * 24 h retention only once the answer is stored. If the process dies mid-request, the key is
 * free again when the lease ends and a retry runs the request anew: whatever the first attempt
 * committed is then found by the write's own uniqueness (a cluster's name is unique among live
 * clusters of an organisation), so a retry never creates a second object (docs/idempotency.md).
 *
 * Mounted by `@Endpoint()` on exactly the routes whose contract says `idempotent`, rather than
 * globally: a global interceptor puts every request through an rxjs layer and an
 * AsyncResource.bind, a measurable share of a cached read's CPU (issue #3), and the contract
 * still decides, so no idempotent route can go without it.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly db: Database,
    private readonly cls: ClsService,
    private readonly clock: Clock,
    private readonly http: HttpConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const key = request.headers['idempotency-key'];
    if (key === undefined) return next.handle();
    return from(this.handle(context, request, String(key), next));
  }

  private async handle(context: ExecutionContext, request: FastifyRequest, key: string, next: CallHandler): Promise<unknown> {
    if (!KEY.test(key)) throw new ValidationError([{ field: 'Idempotency-Key', message: 'must be 1 to 255 characters of letters, digits and ._:-' }]);
    const scope = this.cls.get<string | undefined>(IDEMPOTENCY_SCOPE);
    if (!scope) throw new UnauthenticatedError();
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${canonicalJson(request.body)}`)
      .digest('hex');
    const now = this.clock.now();
    const reply = context.switchToHttp().getResponse<FastifyReply>();

    await this.db.deleteFrom('idempotency_records').where('organization_id', '=', scope).where('key', '=', key).where('expires_at', '<', now).execute();
    const claimed = await this.db
      .insertInto('idempotency_records')
      .values({
        organization_id: scope,
        key,
        request_hash: requestHash,
        response_status: IN_FLIGHT,
        response_body: jsonb({}),
        response_headers: jsonb({}),
        expires_at: new Date(now.getTime() + this.http.idempotencyLeaseMs),
      })
      .onConflict((oc) => oc.columns(['organization_id', 'key']).doNothing())
      .executeTakeFirst();
    if (claimed.numInsertedOrUpdatedRows === 0n) {
      const first = await this.db
        .selectFrom('idempotency_records')
        .selectAll()
        .where('organization_id', '=', scope)
        .where('key', '=', key)
        .executeTakeFirstOrThrow();
      if (first.request_hash !== requestHash) {
        throw new UnprocessableError('idempotency-key-reused', `Idempotency-Key ${key} was already used with a different request`);
      }
      if (first.response_status === IN_FLIGHT) {
        const retryAfter = Math.max(1, Math.ceil((first.expires_at.getTime() - now.getTime()) / 1000));
        void reply.header('retry-after', String(retryAfter));
        throw new ConflictError('idempotency-key-in-use', `a request with Idempotency-Key ${key} is still being processed; retry in at most ${retryAfter} s`);
      }
      for (const [name, value] of Object.entries(first.response_headers as Record<string, string>)) void reply.header(name, value);
      void reply.header('idempotent-replayed', 'true').status(first.response_status);
      return first.response_body;
    }

    try {
      const body = await lastValueFrom(next.handle(), { defaultValue: undefined });
      // ETag and Location are written from the body after this runs (createHttpApp); a handler may set others itself.
      const fromBody: Record<string, string | undefined> = responseHeadersOf(body);
      const headers = Object.fromEntries(
        REPLAYED_HEADERS.flatMap((h) => {
          const value = reply.getHeader(h) ?? fromBody[h];
          return value ? [[h, String(value)]] : [];
        }),
      );
      await this.db
        .updateTable('idempotency_records')
        .set({
          response_status: reply.statusCode,
          response_body: jsonb(body ?? null),
          response_headers: jsonb(headers),
          expires_at: new Date(this.clock.now().getTime() + RETENTION_MS),
        })
        .where('organization_id', '=', scope)
        .where('key', '=', key)
        .execute();
      return body;
    } catch (error) {
      // A failed first attempt leaves nothing behind: the client may retry with the same key.
      await this.db
        .deleteFrom('idempotency_records')
        .where('organization_id', '=', scope)
        .where('key', '=', key)
        .execute()
        .catch(() => undefined);
      throw error;
    }
  }
}

/** JSON with sorted keys, so the same body hashes the same whatever its key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
