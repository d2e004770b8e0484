import { WORKSPACE_ROOT } from '@capstan/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { Metrics } from './metrics';

/**
 * The chart's alert rules and dashboard (deploy/helm/capstan/files) against what the processes
 * export: promtool must accept and unit-test the rules as the PrometheusRule carries them, and every
 * metric they name must be in the catalogue (a renamed metric would leave an alert that never
 * fires and a panel that stays empty, silently).
 */
const chart = join(WORKSPACE_ROOT, 'deploy', 'helm', 'capstan');
const rulesFile = join(chart, 'files', 'alert-rules.yaml');
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

interface RuleGroup {
  name: string;
  rules: { alert?: string; record?: string; expr: string }[];
}

/** The PrometheusRule as Helm renders its spec: the template embeds the rules file under `spec:`. */
function renderedPrometheusRule(): { kind: string; spec: { groups: RuleGroup[] } } {
  const template = readFileSync(join(chart, 'templates', 'prometheusrule.yaml'), 'utf8');
  expect(template).toMatch(/^kind: PrometheusRule$/m);
  expect(template).toMatch(/^spec:\n {2}\{\{- \.Files\.Get "files\/alert-rules\.yaml" \| nindent 2 \}\}$/m);
  return { kind: 'PrometheusRule', spec: parse(readFileSync(rulesFile, 'utf8')) as { groups: RuleGroup[] } };
}

function promtool(...args: string[]): string {
  try {
    return execFileSync(PROMTOOL, args, { encoding: 'utf8', stdio: 'pipe', timeout: 60_000 });
  } catch (error) {
    const failure = error as { code?: string; stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') throw new Error('promtool is not installed (Debian: apt-get install prometheus; .ci/run does it)');
    throw new Error(`promtool ${args.join(' ')} failed:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
  }
}

/** Metric names in PromQL: ours and the Node process metrics prom-client exports by default. */
function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(?:capstan|process|nodejs)_[a-z0-9_]+\b/g)].map((m) => m[0]);
}

/** A histogram's series carry suffixes; the catalogue has the histogram's own name. */
function baseName(name: string, exported: Set<string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return exported.has(name) ? name : base;
}

describe('the alert rules and dashboard in the Helm chart', () => {
  const exported = new Set(new Metrics().registry.getMetricsAsArray().map((m) => m.name));
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'capstan-rules-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pass promtool check rules once the PrometheusRule spec.groups are unwrapped', () => {
    const rule = renderedPrometheusRule();
    expect(rule.spec.groups.length).toBeGreaterThan(0);
    const unwrapped = join(dir, 'rules.yaml');
    writeFileSync(unwrapped, stringify({ groups: rule.spec.groups }));
    expect(promtool('check', 'rules', unwrapped)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fire and stay quiet as their unit tests expect (promtool test rules)', () => {
    expect(promtool('test', 'rules', join(chart, 'files', 'alert-rules.test.yaml'))).toMatch(/SUCCESS/);
  });

  it('alert on stuck operations, outbox lag, probe failures, queue backlog and error-budget burn', () => {
    const alerts = renderedPrometheusRule().spec.groups.flatMap((g) => g.rules);
    const uses = (metric: string) => alerts.some((r) => r.alert && r.expr.includes(metric));
    for (const metric of [
      'capstan_operation_oldest_active_age_seconds',
      'capstan_outbox_lag_seconds',
      'capstan_probe_failures_total',
      'capstan_queue_jobs',
      'capstan_sla_alerts_firing',
    ]) {
      expect(uses(metric)).toBe(true);
    }
  });

  it('name only metrics the processes export', () => {
    const rules = renderedPrometheusRule().spec.groups.flatMap((g) => g.rules.map((r) => r.expr));
    const dashboard = JSON.parse(readFileSync(join(chart, 'files', 'dashboard.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const panels = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(panels.length).toBeGreaterThan(10);
    const used = [...rules, ...panels].flatMap(metricNamesIn);
    expect(used.length).toBeGreaterThan(20);
    const unknown = [...new Set(used.map((name) => baseName(name, exported)))].filter((name) => !exported.has(name));
    expect(unknown).toEqual([]);
  });

  it('are all in the metrics table of docs/observability.md, which lists no metric that does not exist', () => {
    const doc = readFileSync(join(WORKSPACE_ROOT, 'docs', 'observability.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `(capstan_[a-z0-9_]+)`/gm)].map((m) => m[1]!));
    const ours = [...exported].filter((name) => name.startsWith('capstan_'));
    expect(ours.filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('keep the `service` label they select on: the ServiceMonitor honours the series own labels', () => {
    const rules = readFileSync(rulesFile, 'utf8');
    expect(rules).toMatch(/service="worker"/);
    expect(readFileSync(join(chart, 'templates', 'servicemonitor.yaml'), 'utf8')).toMatch(/^\s+honorLabels: true$/m);
  });

  it('the catalogue check itself catches a name the processes do not export', () => {
    const names = metricNamesIn('sum(rate(capstan_operations_finishd_total[5m])) / sum(capstan_queue_jobs)');
    expect(names.map((n) => baseName(n, exported)).filter((n) => !exported.has(n))).toEqual(['capstan_operations_finishd_total']);
  });
});
