import { Global, Injectable, Module } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds, from a fast API answer to a slow provider call. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Operations run for seconds (simulated) to an hour (a real cluster create or upgrade). */
const OPERATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

/** Reads the state a sampled gauge reports, when it is scraped; one per gauge, set by its owner. */
export type Sampler = () => Promise<void>;

/**
 * One Prometheus registry per process, and the catalogue of every Capstan metric
 * (docs/observability.md). Every process registers the whole catalogue, so the dashboard and the
 * alert rules can be checked against one list of names; a process only moves the series of its
 * own work. Labels are bounded sets (operation type, status, provider, step name, queue state),
 * never cluster or organisation ids: a fleet of thousands must not become thousands of series.
 *
 * Gauges that describe the fleet (operations by status, queue depth, outbox lag) are sampled from
 * Postgres or Redis when scraped, by the library that owns the table (`sampleWith`).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  private readonly samplers = new Map<string, Sampler>();

  readonly httpDuration = this.histogram('capstan_http_request_duration_seconds', 'HTTP request duration by route template and status', [
    'method',
    'route',
    'status',
  ]);

  // -- operations (api: enqueued; worker: runs, steps, retries, outcomes)
  readonly operationsEnqueued = this.counter('capstan_operations_enqueued_total', 'Operations written with their outbox message, by type', ['type']);
  readonly operationsFinished = this.counter('capstan_operations_finished_total', 'Operations that ended, by type and outcome', ['type', 'outcome']);
  readonly operationDuration = this.histogram(
    'capstan_operation_duration_seconds',
    'Time from an operation being requested to its end, by type and outcome',
    ['type', 'outcome'],
    OPERATION_BUCKETS,
  );
  readonly operationSteps = this.counter('capstan_operation_steps_total', 'Operation step attempts, by operation type and result', ['type', 'result']);
  readonly operationStepDuration = this.histogram('capstan_operation_step_duration_seconds', 'Time one step attempt ran in a worker, by operation type', [
    'type',
  ]);
  readonly operationRetries = this.counter('capstan_operation_step_retries_total', 'Step failures scheduled for a retry, by operation type', ['type']);
  readonly operationRunsInFlight = this.gauge('capstan_operation_runs_in_flight', 'Operation runs executing in this worker now');
  readonly operations = this.gauge('capstan_operations', 'Operations not yet ended, by type and status (sampled from Postgres)', ['type', 'status']);
  readonly operationsWaiting = this.gauge('capstan_operations_waiting', 'Running operations that yielded their worker to wait for the provider (sampled)');
  readonly oldestActiveOperation = this.gauge(
    'capstan_operation_oldest_active_age_seconds',
    'Age of the oldest operation not yet ended, by type (sampled; a stuck operation shows here)',
    ['type'],
  );

  // -- delivery
  readonly queueJobs = this.gauge('capstan_queue_jobs', 'BullMQ jobs by queue and state (sampled from Redis)', ['queue', 'state']);
  readonly outboxLag = this.gauge('capstan_outbox_lag_seconds', 'Age of the oldest outbox message not yet relayed to BullMQ (0 when empty; sampled)');
  readonly outboxPending = this.gauge('capstan_outbox_pending_messages', 'Outbox messages not yet relayed to BullMQ (sampled)');
  readonly outboxRelayed = this.counter('capstan_outbox_relayed_total', 'Outbox messages relayed to BullMQ by this process');
  readonly webhookDeliveries = this.counter('capstan_webhook_deliveries_total', 'Webhook delivery attempts by outcome', ['outcome']);
  readonly webhookDeliveryDuration = this.histogram('capstan_webhook_delivery_duration_seconds', 'Webhook delivery attempt duration', ['outcome']);

  // -- providers
  readonly providerCallDuration = this.histogram('capstan_provider_call_duration_seconds', 'Provider driver calls by provider, call and outcome', [
    'provider',
    'call',
    'outcome',
  ]);
  readonly providerCallErrors = this.counter('capstan_provider_call_errors_total', 'Failed provider driver calls by provider, call and error code', [
    'provider',
    'call',
    'code',
  ]);

  // -- GKE settings drift (docs/gke-driver.md, "Drift")
  readonly gkeDriftChecks = this.counter(
    'capstan_gke_drift_checks_total',
    "GKE clusters' settings compared with Capstan's, by result (in_step, corrected, busy, held_back, failed)",
    ['result'],
  );
  readonly componentScans = this.counter(
    'capstan_component_scans_total',
    'Clusters read by the component scan for the advisories, by result (scanned, unreachable, skipped)',
    ['result'],
  );
  readonly gkeSettingsDrift = this.counter(
    'capstan_gke_settings_drift_total',
    'Settings found changed at GKE behind Capstan and corrected, by setting (release_channel, maintenance_policy, labels)',
    ['setting'],
  );

  // -- SLA monitor
  readonly probesSent = this.counter('capstan_probes_total', 'API server probes sent, by result', ['result']);
  readonly probeFailures = this.counter('capstan_probe_failures_total', 'Failed probes by kind of failure', ['kind']);
  readonly probeLatency = this.histogram('capstan_probe_duration_seconds', 'API server probe latency', ['result']);
  readonly probeTargets = this.gauge('capstan_probe_targets', 'Clusters this SLA monitor replica probes');
  readonly availabilityIntervalsWritten = this.counter('capstan_availability_intervals_written_total', 'Availability intervals opened in Postgres');
  readonly availabilityFlushFailures = this.counter('capstan_availability_flush_failures_total', 'Availability flushes that failed and will be retried');
  readonly clusterStatusChanges = this.counter(
    'capstan_cluster_status_changes_total',
    'Cluster status changes between running and degraded announced by the SLA monitor (its own, or an operation end it saw), by new status',
    ['to'],
  );
  readonly burnRateAlertChanges = this.counter('capstan_sla_burn_rate_alert_changes_total', 'Burn-rate alerts raised, changed or resolved, by new severity', [
    'severity',
  ]);
  readonly slaBreaches = this.gauge(
    'capstan_sla_breaches',
    'Clusters whose SLA for the month in progress is already breached, by provider (recomputed every few minutes)',
    ['provider'],
  );
  readonly slaAlertsFiring = this.gauge('capstan_sla_alerts_firing', 'Clusters with a burn-rate alert firing, by severity (sampled from Postgres)', [
    'severity',
  ]);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  setServiceLabel(service: string): void {
    this.registry.setDefaultLabels({ service });
  }

  /**
   * Who answers sampled gauges in this process; a gauge nobody samples stays empty. One sampler
   * may set several gauges: a scrape collects them concurrently and they share one run.
   */
  sampleWith(gauges: Gauge[], sampler: Sampler): void {
    let running: Promise<void> | undefined;
    const shared: Sampler = () => (running ??= sampler().finally(() => (running = undefined)));
    for (const gauge of gauges) this.samplers.set((gauge as unknown as { name: string }).name, shared);
  }

  /** Every Capstan metric name of the catalogue (the dashboard and alert test compares against it). */
  names(): string[] {
    return this.registry
      .getMetricsAsArray()
      .map((m) => m.name)
      .filter((name) => name.startsWith('capstan_'));
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[] = []) {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, labelNames: L[] = [], buckets = LATENCY_BUCKETS) {
    return new Histogram<L>({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[] = []) {
    const samplers = this.samplers;
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      // A sampler failing (Postgres away) leaves the last values: a scrape must still answer.
      async collect() {
        await samplers
          .get(name)?.()
          .catch(() => undefined);
      },
    });
  }
}

/** The outcome label of a timed call: `ok`, or `error`. */
export async function timed<T>(observe: (seconds: number, outcome: 'ok' | 'error') => void, call: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const value = await call();
    observe((performance.now() - started) / 1000, 'ok');
    return value;
  } catch (error) {
    observe((performance.now() - started) / 1000, 'error');
    throw error;
  }
}

@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
