import { Clock, Database, type DB, Metrics } from '@capstan/platform';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { type Selectable, sql } from 'kysely';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress } from '../webhooks/network-policy';
import { signWebhook, WebhookSecrets } from '../webhooks/webhook-secrets';
import { nextAttemptAfter } from './retry-schedule';

/** How the deliverer paces itself. The defaults suit production; tests pass their own. */
export class WebhookDeliverySettings {
  constructor(
    /** Deliveries in flight at once in this process. */
    readonly concurrency = 32,
    /**
     * Deliveries of one organisation in flight at once in this process: a slow endpoint holds at
     * most this many slots, so the other organisations always have the rest.
     */
    readonly perOrganization = 4,
    /** An endpoint that has not answered by then counts as failed (and is retried). */
    readonly timeoutMs = 5_000,
    /** How often the worker looks for due deliveries (it also looks whenever a slot frees). */
    readonly pollIntervalMs = 1_000,
    /**
     * How long a claimed delivery stays invisible to other replicas. Longer than any attempt can
     * take, so only a worker that died mid-attempt lets it lapse; the delivery is then retried.
     */
    readonly leaseMs = 60_000,
    /**
     * Deliver to loopback and private addresses (development and tests only). Otherwise every
     * address a name resolves to is checked when connecting, so DNS cannot smuggle a delivery
     * into the provider's own network (see network-policy.ts).
     */
    readonly allowPrivateNetworks = false,
  ) {}
}

type EventRow = Selectable<DB['events']>;
type WebhookRow = Selectable<DB['webhooks']>;
type ClaimedDelivery = Pick<Selectable<DB['webhook_deliveries']>, 'id' | 'webhook_id' | 'organization_id' | 'event_id' | 'attempts'>;

type Outcome = { ok: true; statusCode: number } | { ok: false; statusCode: number | null; error: string };

const MAX_ERROR_LENGTH = 500;

/**
 * Delivers webhook events: at least once, each delivery claimed by one worker replica at a time,
 * fairly across organisations, with bounded concurrency.
 *
 * Claiming is one short statement (`FOR UPDATE SKIP LOCKED`, so replicas never wait on each
 * other) that pushes the claimed rows' next_attempt_at a lease ahead; the HTTP request then runs
 * with no transaction or connection held, and its outcome is written in a second statement.
 * Holding a row lock across the request instead would pin one pooled connection per in-flight
 * delivery, and slow endpoints would starve the operations engine of connections.
 *
 * Fairness: each claim takes the organisations whose due deliveries have waited longest, and at
 * most `perOrganization` (minus those already in flight) from each, interleaved round-robin; so
 * an organisation with ten thousand queued events, or with an endpoint that hangs until the
 * timeout, cannot hold more than its share of the slots. (With more organisations waiting than
 * free slots, the ones waiting longest go first: every wait is bounded by the work queued before it.)
 */
@Injectable()
export class WebhookDeliverer {
  private readonly logger = new Logger(WebhookDeliverer.name);
  private readonly inFlight = new Map<string, { organizationId: string; done: Promise<void> }>();
  /** Claims run one at a time in this process, so two cannot both fill the same free slots. */
  private claims: Promise<unknown> = Promise.resolve();
  private refillOnSettle = false;

  constructor(
    private readonly db: Database,
    private readonly secrets: WebhookSecrets,
    private readonly clock: Clock,
    private readonly settings: WebhookDeliverySettings,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  /** From now on, claim again whenever an attempt finishes, so a freed slot is refilled at once. */
  keepSlotsFull(): void {
    this.refillOnSettle = true;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Claims as many due deliveries as there are free slots and starts them without waiting for
   * them. Resolves with how many it started.
   */
  dispatch(): Promise<number> {
    const claim = this.claims.then(() => this.claimAndStart());
    this.claims = claim.catch(() => undefined);
    return claim;
  }

  /**
   * Delivers everything due now (and whatever falls due while it runs), waiting for every attempt
   * to finish. Resolves with the number of attempts made. For tests and one-off runs.
   */
  async deliverDue(): Promise<number> {
    let attempts = 0;
    for (;;) {
      attempts += await this.dispatch();
      if (this.inFlight.size === 0) {
        const more = await this.dispatch();
        if (more === 0 && this.inFlight.size === 0) return attempts;
        attempts += more;
      }
      await Promise.race([...this.inFlight.values()].map((d) => d.done));
    }
  }

  /** Stops refilling and waits for the attempts in flight (on shutdown; each ends within the timeout). */
  async drain(): Promise<void> {
    this.refillOnSettle = false;
    await this.claims;
    await Promise.all([...this.inFlight.values()].map((d) => d.done));
  }

  private async claimAndStart(): Promise<number> {
    const free = this.settings.concurrency - this.inFlight.size;
    if (free <= 0) return 0;
    const claimed = await this.claim(free);
    if (claimed.length === 0) return 0;

    const [events, webhooks] = await Promise.all([
      this.db
        .selectFrom('events')
        .selectAll()
        .where('id', 'in', [...new Set(claimed.map((c) => c.event_id))])
        .execute(),
      this.db
        .selectFrom('webhooks')
        .selectAll()
        .where('id', 'in', [...new Set(claimed.map((c) => c.webhook_id))])
        .execute(),
    ]);
    const eventById = new Map(events.map((e) => [e.id, e]));
    const webhookById = new Map(webhooks.map((w) => [w.id, w]));

    for (const delivery of claimed) {
      const done = this.attempt(delivery, eventById.get(delivery.event_id), webhookById.get(delivery.webhook_id))
        .catch((error: unknown) => {
          // Only our own bookkeeping can fail here (e.g. Postgres away): the lease lapses and the
          // delivery is tried again, so log and move on.
          this.logger.error(`webhook delivery ${delivery.id} could not be recorded: ${String(error)}`);
        })
        .finally(() => {
          this.inFlight.delete(delivery.id);
          if (this.refillOnSettle) void this.dispatch().catch((error: unknown) => this.logger.error(`claiming webhook deliveries failed: ${String(error)}`));
        });
      this.inFlight.set(delivery.id, { organizationId: delivery.organization_id, done });
    }
    return claimed.length;
  }

  private async claim(limit: number): Promise<ClaimedDelivery[]> {
    const now = this.clock.now();
    const leaseUntil = new Date(now.getTime() + this.settings.leaseMs);
    const perOrg = this.settings.perOrganization;
    const busy = new Map<string, number>();
    for (const { organizationId } of this.inFlight.values()) busy.set(organizationId, (busy.get(organizationId) ?? 0) + 1);
    const busyOrgs = [...busy.keys()];
    const busyCounts = busyOrgs.map((org) => busy.get(org)!);

    // What this process already has in flight per organisation, as rows; an unnest with a column
    // list is the one piece Kysely's builder does not express.
    const allowance = sql<number>`${perOrg}::int - coalesce((SELECT b.n FROM unnest(${busyOrgs}::text[], ${busyCounts}::int[]) AS b(org, n) WHERE b.org = d.organization_id), 0)`;
    return this.db
      .with('due_orgs', (q) =>
        q
          .selectFrom('webhook_deliveries as d')
          .select(['d.organization_id', sql<Date>`min(coalesce(d.next_attempt_at, d.created_at))`.as('waiting_since'), allowance.as('allowance')])
          .where('d.status', '=', 'pending')
          .where((eb) => eb.or([eb('d.next_attempt_at', 'is', null), eb('d.next_attempt_at', '<=', now)]))
          .groupBy('d.organization_id'),
      )
      .with('orgs', (q) => q.selectFrom('due_orgs').selectAll().where('allowance', '>', 0).orderBy('waiting_since').limit(limit))
      .with('picked', (q) =>
        q
          .selectFrom('orgs as o')
          .innerJoinLateral(
            (eb) =>
              eb
                .selectFrom('webhook_deliveries as d')
                .innerJoin('webhooks as w', (join) => join.onRef('w.id', '=', 'd.webhook_id').on('w.disabled_at', 'is', null))
                .select(['d.id', 'd.next_attempt_at'])
                .whereRef('d.organization_id', '=', 'o.organization_id')
                .where('d.status', '=', 'pending')
                .where((eb) => eb.or([eb('d.next_attempt_at', 'is', null), eb('d.next_attempt_at', '<=', now)]))
                .orderBy('d.next_attempt_at', (order) => order.asc().nullsFirst())
                .orderBy('d.id')
                .limit(sql<number>`o.allowance`)
                .forUpdate('d')
                .skipLocked()
                .as('p'),
            (join) => join.onTrue(),
          )
          .select([
            'p.id',
            'o.waiting_since',
            sql<number>`row_number() OVER (PARTITION BY o.organization_id ORDER BY p.next_attempt_at NULLS FIRST, p.id)`.as('turn'),
          ])
          .orderBy('turn')
          .orderBy('o.waiting_since')
          .limit(limit),
      )
      .updateTable('webhook_deliveries as d')
      .from('picked')
      .set((eb) => ({ attempts: eb('d.attempts', '+', 1), next_attempt_at: leaseUntil, updated_at: now }))
      .whereRef('d.id', '=', 'picked.id')
      .returning(['d.id', 'd.webhook_id', 'd.organization_id', 'd.event_id', 'd.attempts'])
      .execute();
  }

  private async attempt(delivery: ClaimedDelivery, event: EventRow | undefined, webhook: WebhookRow | undefined): Promise<void> {
    if (!event || !webhook || webhook.disabled_at) {
      await this.finish(delivery, { ok: false, statusCode: null, error: !event ? 'the event no longer exists' : 'the webhook was deleted' }, null);
      return;
    }
    let secret: string;
    try {
      secret = this.secrets.open({ id: webhook.id, secretKeyId: webhook.secret_key_id, secretSealed: webhook.secret_sealed });
    } catch (error) {
      // A key retired from SECRETS_KEYS too early: no retry can fix it, so say so once and stop.
      this.logger.error(`webhook ${webhook.id}: signing secret cannot be opened: ${String(error)}`);
      await this.finish(delivery, { ok: false, statusCode: null, error: 'the signing secret cannot be opened; contact support' }, null);
      return;
    }

    // CloudEvents 1.0, JSON event format, structured content mode: the whole event is the body.
    const body = JSON.stringify({
      specversion: '1.0',
      id: event.id,
      type: event.type,
      source: event.source,
      ...(event.subject !== null ? { subject: event.subject } : {}),
      time: event.time.toISOString(),
      datacontenttype: 'application/json',
      data: event.data,
    });
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    const started = performance.now();
    // The message id is the event id: the same on every retry, so receivers can deduplicate.
    const outcome = await this.post(webhook.url, body, {
      'content-type': 'application/cloudevents+json',
      'user-agent': 'Capstan-Webhooks/1.0',
      'webhook-id': event.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secret, event.id, timestamp, body),
    });
    // Outcomes are a bounded set: succeeded, or why not (an HTTP status class, or no answer).
    const result = outcome.ok ? 'succeeded' : outcome.statusCode ? `http_${Math.floor(outcome.statusCode / 100)}xx` : 'no_answer';
    this.metrics?.webhookDeliveries.inc({ outcome: result });
    this.metrics?.webhookDeliveryDuration.observe({ outcome: result }, (performance.now() - started) / 1000);
    await this.finish(delivery, outcome, event.time);
  }

  /**
   * One POST with node's own client rather than fetch: it takes a `lookup`, so the address
   * checked is the address connected to (no second resolution a DNS rebinding could change).
   * Redirects are answers, not new destinations: following one would send signed events to
   * wherever the endpoint points, including hosts the customer never registered.
   */
  private post(url: string, body: string, headers: Record<string, string>): Promise<Outcome> {
    const target = new URL(url);
    const literal = target.hostname.replace(/^\[(.*)\]$/, '$1');
    // An IP literal never goes through `lookup`: judged here.
    if (!this.settings.allowPrivateNetworks && isIP(literal) !== 0 && !isPublicAddress(literal)) {
      return Promise.resolve({ ok: false, statusCode: null, error: describeFailure(new PrivateAddressError(target.hostname), this.settings.timeoutMs) });
    }
    return new Promise<Outcome>((resolve) => {
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup: this.settings.allowPrivateNetworks ? undefined : publicOnlyLookup,
          agent: false,
        },
        (response) => {
          clearTimeout(deadline);
          // The body is not ours to read; release the connection.
          response.resume();
          const status = response.statusCode ?? 0;
          resolve(
            status >= 200 && status < 300 ? { ok: true, statusCode: status } : { ok: false, statusCode: status, error: `the endpoint answered HTTP ${status}` },
          );
        },
      );
      // The whole attempt, not each idle gap: an endpoint that trickles bytes is still too slow.
      const deadline = setTimeout(() => request.destroy(new DeliveryTimeout()), this.settings.timeoutMs);
      request.on('error', (error) => {
        clearTimeout(deadline);
        resolve({ ok: false, statusCode: null, error: describeFailure(error, this.settings.timeoutMs) });
      });
      request.end(body);
    });
  }

  /** Records an attempt's outcome; a no-op if the delivery stopped being pending meanwhile. */
  private async finish(delivery: ClaimedDelivery, outcome: Outcome, eventTime: Date | null): Promise<void> {
    const now = this.clock.now();
    const pending = this.db.updateTable('webhook_deliveries').where('id', '=', delivery.id).where('status', '=', 'pending');
    if (outcome.ok) {
      await pending
        .set({ status: 'succeeded', last_status_code: outcome.statusCode, last_error: null, next_attempt_at: null, delivered_at: now, updated_at: now })
        .execute();
      return;
    }
    const next = eventTime ? nextAttemptAfter(now, delivery.attempts, eventTime) : null;
    await pending
      .set({
        status: next ? 'pending' : 'failed',
        last_status_code: outcome.statusCode,
        last_error: outcome.error.slice(0, MAX_ERROR_LENGTH),
        next_attempt_at: next,
        updated_at: now,
      })
      .execute();
  }
}

class DeliveryTimeout extends Error {
  override readonly name = 'TimeoutError';
}

class PrivateAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS';
  constructor(readonly host: string) {
    super(`refused: ${host} is not on the public internet`);
  }
}

/** dns.lookup that answers only public addresses, and fails when a name has nothing else. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const usable = addresses.filter((a) => isPublicAddress(a.address));
    if (usable.length === 0) return callback(new PrivateAddressError(hostname), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
    return callback(null, usable[0]!.address, usable[0]!.family);
  });
};

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof PrivateAddressError)
    return `${error.host} is not on the public internet (or resolves only to such addresses); deliveries there are refused`;
  // Duck-typed rather than instanceof: errors may come from another realm (e.g. jest's).
  const { name, code, message } = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown };
  if (name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  if (typeof code === 'string') return `could not connect: ${code}`;
  return `request failed: ${typeof message === 'string' ? message : String(error)}`;
}
