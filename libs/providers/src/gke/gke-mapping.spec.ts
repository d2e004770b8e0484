import { loadConfig } from '@capstan/platform';
import { ProviderError } from '../cluster-provider';
import { operationStatus } from './gke-driver';
import {
  clusterStatus,
  gkeClusterSettingsOf,
  maintenancePolicyOf,
  millisOf,
  nodePoolOf,
  resourceLabelsOf,
  RPC,
  samePolicy,
  settingsDrift,
  taintsOf,
  toProviderCluster,
  toProviderError,
} from './gke-mapping';
import { gkeSettingsFrom } from './gke-source';

const gaxError = (code: number, message: string) => Object.assign(new Error(message), { code });

describe('GKE mapping', () => {
  it('maps every cluster status GKE reports to the port’s', () => {
    expect(['PROVISIONING', 'RUNNING', 'RECONCILING', 'STOPPING', 'ERROR', 'DEGRADED', 'STATUS_UNSPECIFIED'].map((s) => clusterStatus(s as never))).toEqual([
      'provisioning',
      'running',
      'updating',
      'deleting',
      'error',
      'error',
      'error',
    ]);
  });

  it('reports the endpoint and the decoded CA only while the control plane serves', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const resource = {
      name: 'c',
      currentMasterVersion: '1.35.8-gke.1225000',
      endpoint: '10.0.0.1',
      masterAuth: { clusterCaCertificate: Buffer.from(pem).toString('base64') },
    };
    expect(toProviderCluster({ ...resource, status: 'RUNNING' })).toEqual({
      name: 'c',
      status: 'running',
      version: '1.35.8-gke.1225000',
      endpoint: 'https://10.0.0.1',
      caCertificate: pem,
    });
    expect(toProviderCluster({ ...resource, status: 'PROVISIONING' })).toMatchObject({ endpoint: null, caCertificate: null });
  });

  it('names the API server by its DNS endpoint when the endpoint is shared (the SLA prober sends it by SNI)', () => {
    const shared = {
      name: 'c',
      status: 'RUNNING' as const,
      endpoint: '127.0.0.1:8443',
      currentMasterVersion: '1.35.8-gke.1225000',
      masterAuth: { clusterCaCertificate: Buffer.from('pem').toString('base64') },
      controlPlaneEndpointsConfig: { dnsEndpointConfig: { endpoint: 'c.clusters.simulator.capstan.test' } },
    };
    expect(toProviderCluster(shared, { serverNameFromDnsEndpoint: true }).tlsServerName).toBe('c.clusters.simulator.capstan.test');
    expect(toProviderCluster(shared).tlsServerName).toBeUndefined();
    expect(toProviderCluster({ ...shared, status: 'PROVISIONING' }, { serverNameFromDnsEndpoint: true }).tlsServerName).toBeUndefined();
  });

  it.each([
    [RPC.UNAVAILABLE, 'backend unavailable', true, 'gke_unavailable'],
    [RPC.RESOURCE_EXHAUSTED, 'quota exceeded', true, 'gke_resource_exhausted'],
    [RPC.FAILED_PRECONDITION, 'Cluster is running incompatible operation operation-1-a.', true, 'gke_failed_precondition'],
    [RPC.FAILED_PRECONDITION, 'master version cannot be downgraded', false, 'gke_failed_precondition'],
    [RPC.INVALID_ARGUMENT, 'bad version', false, 'gke_invalid_argument'],
    [RPC.PERMISSION_DENIED, 'no', false, 'gke_permission_denied'],
  ])('maps google.rpc.Code %s (%s) to retryable=%s', (code, message, retryable, name) => {
    expect(toProviderError(gaxError(code, message), 'doing it')).toMatchObject({ retryable, code: name, message: `GKE doing it: ${message}` });
  });

  it('treats an answer that never came (no code) as retryable', () => {
    expect(toProviderError(new TypeError('fetch failed'), 'reading')).toMatchObject({ retryable: true, code: 'gke_unreachable' });
  });

  it('follows an operation to done, with its failure retryable or not by its code', () => {
    expect(operationStatus({ status: 'RUNNING', operationType: 'UPGRADE_MASTER' })).toEqual({ done: false, progress: 'UPGRADE_MASTER running' });
    expect(operationStatus({ status: 'DONE', error: { code: 0 } })).toEqual({ done: true });
    expect(operationStatus({ status: 'DONE', error: { code: RPC.FAILED_PRECONDITION, message: 'nodes did not join' } })).toMatchObject({
      done: true,
      error: { retryable: false, message: 'nodes did not join' },
    });
    expect(operationStatus({ status: 'DONE', error: { code: RPC.CANCELLED, message: 'cancelled' } }).error?.retryable).toBe(true);
  });

  it('keeps labels within GCE’s rules', () => {
    expect(resourceLabelsOf({ Team: 'Payments EU', '9lives': 'x', 'a.b/c': 'v' })).toEqual({ team: 'payments_eu', l9lives: 'x', a_b_c: 'v' });
  });

  it('builds a node pool in one zone with the port’s surge, autoscaling and taints', () => {
    const pool = nodePoolOf(
      {
        name: 'pool-a',
        machineType: 'e2-standard-4',
        count: 3,
        autoscaling: { min: 1, max: 5 },
        version: '1.35.8-gke.1225000',
        labels: { a: 'b' },
        taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }],
        maxSurge: 2,
        maxUnavailable: 1,
      },
      'europe-west6-b',
    );
    expect(pool).toMatchObject({
      initialNodeCount: 3,
      locations: ['europe-west6-b'],
      autoscaling: { enabled: true, minNodeCount: 1, maxNodeCount: 5 },
      upgradeSettings: { maxSurge: 2, maxUnavailable: 1 },
      config: { taints: [{ key: 'gpu', value: 'true', effect: 'NO_SCHEDULE' }] },
    });
    expect(() => taintsOf({ taints: [{ key: 'k', value: 'v', effect: 'Sometimes' }] })).toThrow(ProviderError);
  });

  it('writes a window in UTC, moving the days when the local start is on another UTC day', () => {
    const now = new Date('2026-12-04T12:00:00Z');
    const night = maintenancePolicyOf(
      { window: { timeZone: 'Europe/Zurich', days: ['SA', 'SU'], startTime: '00:30', durationMinutes: 240 }, exclusions: [] },
      now,
    );
    expect(night.window?.recurringWindow).toEqual({
      window: {
        startTime: { seconds: Date.parse('2026-12-04T23:30:00Z') / 1000, nanos: 0 },
        endTime: { seconds: Date.parse('2026-12-05T03:30:00Z') / 1000, nanos: 0 },
      },
      recurrence: 'FREQ=WEEKLY;BYDAY=FR,SA',
    });
    const day = maintenancePolicyOf({ window: { timeZone: 'Europe/Zurich', days: ['TU'], startTime: '10:00', durationMinutes: 240 }, exclusions: [] }, now);
    expect(day.window?.recurringWindow?.recurrence).toBe('FREQ=WEEKLY;BYDAY=TU');

    const excluded = maintenancePolicyOf(
      {
        window: null,
        exclusions: [
          { name: 'year end', startsAt: new Date('2026-12-20T00:00:00Z'), endsAt: new Date('2027-01-04T00:00:00Z'), scope: 'no_minor_or_node_upgrades' },
        ],
      },
      now,
    );
    expect(excluded.window).toEqual({
      maintenanceExclusions: {
        'year-end': {
          startTime: { seconds: Date.parse('2026-12-20T00:00:00Z') / 1000, nanos: 0 },
          endTime: { seconds: Date.parse('2027-01-04T00:00:00Z') / 1000, nanos: 0 },
          maintenanceExclusionOptions: { scope: 'NO_MINOR_OR_NODE_UPGRADES' },
        },
      },
    });
  });

  it('finds a policy GKE holds equal to the one Capstan would send, whichever week its first occurrence was computed in', () => {
    const weekend = { timeZone: 'Europe/Zurich', days: ['SA', 'SU'] as const, startTime: '00:30', durationMinutes: 300 };
    const exclusion = { name: 'year end', startsAt: new Date('2026-12-20T00:00:00Z'), endsAt: new Date('2027-01-04T00:00:00Z'), scope: 'no_upgrades' as const };
    const sent = maintenancePolicyOf({ window: weekend, exclusions: [exclusion] }, new Date('2026-12-04T12:00:00Z'));
    // As GKE answers it: timestamps as RFC 3339 strings, a resourceVersion of its own.
    const held = JSON.parse(JSON.stringify(sent)) as typeof sent;
    const asString = (t: unknown) => new Date(millisOf(t as never)).toISOString();
    held.window!.recurringWindow!.window = {
      startTime: asString(sent.window!.recurringWindow!.window!.startTime) as never,
      endTime: asString(sent.window!.recurringWindow!.window!.endTime) as never,
    };
    const withVersion = { ...held, resourceVersion: 'abc123' };

    // a week later (same UTC offset), the anchor moved but the policy is the same
    expect(samePolicy(withVersion, maintenancePolicyOf({ window: weekend, exclusions: [exclusion] }, new Date('2026-12-11T12:00:00Z')))).toBe(true);
    // another start, another length, other days, no window at all: each differs
    expect(
      samePolicy(withVersion, maintenancePolicyOf({ window: { ...weekend, startTime: '01:30' }, exclusions: [exclusion] }, new Date('2026-12-04T12:00:00Z'))),
    ).toBe(false);
    expect(
      samePolicy(withVersion, maintenancePolicyOf({ window: { ...weekend, durationMinutes: 240 }, exclusions: [exclusion] }, new Date('2026-12-04T12:00:00Z'))),
    ).toBe(false);
    expect(
      samePolicy(withVersion, maintenancePolicyOf({ window: { ...weekend, days: ['SU'] }, exclusions: [exclusion] }, new Date('2026-12-04T12:00:00Z'))),
    ).toBe(false);
    expect(samePolicy(withVersion, maintenancePolicyOf({ window: null, exclusions: [exclusion] }, new Date('2026-12-04T12:00:00Z')))).toBe(false);
    // an exclusion added, removed, moved or rescoped differs too
    expect(samePolicy(withVersion, maintenancePolicyOf({ window: weekend, exclusions: [] }, new Date('2026-12-04T12:00:00Z')))).toBe(false);
    expect(
      samePolicy(
        withVersion,
        maintenancePolicyOf({ window: weekend, exclusions: [{ ...exclusion, scope: 'no_minor_upgrades' }] }, new Date('2026-12-04T12:00:00Z')),
      ),
    ).toBe(false);
    expect(
      samePolicy(
        withVersion,
        maintenancePolicyOf({ window: weekend, exclusions: [{ ...exclusion, endsAt: new Date('2027-01-05T00:00:00Z') }] }, new Date('2026-12-04T12:00:00Z')),
      ),
    ).toBe(false);
    // a cluster GKE holds no policy for equals only an empty one
    expect(samePolicy(undefined, maintenancePolicyOf({ window: null, exclusions: [] }, new Date()))).toBe(true);
    expect(samePolicy(undefined, sent)).toBe(false);
  });

  it('reads GKE timestamps in both forms the client hands over', () => {
    expect(millisOf('2026-12-04T23:30:00Z')).toBe(Date.parse('2026-12-04T23:30:00Z'));
    expect(millisOf({ seconds: '1796513400', nanos: 500_000_000 })).toBe(1796513400500);
    expect(millisOf({ seconds: 1796513400 })).toBe(1796513400000);
    expect(Number.isNaN(millisOf(undefined))).toBe(true);
  });
});

describe('GKE settings drift (the one comparison applyClusterSettings and the drift check share)', () => {
  const now = new Date('2026-12-04T12:00:00Z');
  const capstan = {
    labels: { team: 'payments' },
    releaseChannel: 'regular',
    maintenance: {
      window: { timeZone: 'Europe/Zurich', days: ['SA', 'SU'] as const, startTime: '00:30', durationMinutes: 360 },
      exclusions: [] as const,
    },
  };
  /** The cluster as GKE holds it once Capstan's settings were sent, answered a week later (another anchor, a resourceVersion). */
  const inStep = () => {
    const sent = gkeClusterSettingsOf(capstan, 'REGULAR', now);
    return {
      releaseChannel: { channel: sent.channel },
      resourceLabels: { ...sent.labels },
      labelFingerprint: 'f1',
      maintenancePolicy: { ...gkeClusterSettingsOf(capstan, 'REGULAR', new Date('2026-12-11T12:00:00Z')).policy, resourceVersion: 'v7' },
    };
  };

  it('finds nothing when GKE holds what Capstan would send', () => {
    expect(settingsDrift(inStep(), gkeClusterSettingsOf(capstan, 'REGULAR', now))).toEqual([]);
  });

  it('names each setting GKE holds differently, in the order they are sent, with both values', () => {
    // given GKE's copy changed behind Capstan's back: another channel, another window, a label added
    const changed = inStep();
    changed.releaseChannel = { channel: 'STABLE' };
    changed.maintenancePolicy = {
      ...gkeClusterSettingsOf({ ...capstan, maintenance: { ...capstan.maintenance, window: { ...capstan.maintenance.window, days: ['TU'] } } }, 'REGULAR', now)
        .policy,
      resourceVersion: 'v8',
    };
    changed.resourceLabels = { ...changed.resourceLabels, owner: 'console' };

    // when compared with Capstan's
    const drift = settingsDrift(changed, gkeClusterSettingsOf(capstan, 'REGULAR', now));

    // then all three, channel first (applyClusterSettings sends the first), each readable
    expect(drift.map((d) => d.setting)).toEqual(['release_channel', 'maintenance_policy', 'labels']);
    expect(drift[0]).toEqual({ setting: 'release_channel', provider: 'STABLE', capstan: 'REGULAR' });
    // 00:30 in Zurich is 23:30 UTC the day before: SA,SU become FR,SA
    expect(drift[1]).toEqual({
      setting: 'maintenance_policy',
      provider: 'window MO 23:30 UTC for 360 min; no exclusions',
      capstan: 'window FR,SA 23:30 UTC for 360 min; no exclusions',
    });
    expect(drift[2]).toEqual({
      setting: 'labels',
      provider: 'capstan-managed=true, owner=console, team=payments',
      capstan: 'capstan-managed=true, team=payments',
    });
  });

  it('treats a channel GKE does not report, a policy removed and labels removed as drift', () => {
    const bare = { releaseChannel: null, maintenancePolicy: null, resourceLabels: {} };
    const drift = settingsDrift(bare, gkeClusterSettingsOf(capstan, 'REGULAR', now));
    expect(drift).toEqual([
      { setting: 'release_channel', provider: 'none', capstan: 'REGULAR' },
      { setting: 'maintenance_policy', provider: 'no window; no exclusions', capstan: 'window FR,SA 23:30 UTC for 360 min; no exclusions' },
      { setting: 'labels', provider: 'none', capstan: 'capstan-managed=true, team=payments' },
    ]);
  });

  it('names exclusions GKE holds that Capstan does not', () => {
    const withFreeze = inStep();
    const freeze = {
      name: 'console freeze',
      startsAt: new Date('2027-01-10T00:00:00Z'),
      endsAt: new Date('2027-01-12T00:00:00Z'),
      scope: 'no_upgrades' as const,
    };
    withFreeze.maintenancePolicy = gkeClusterSettingsOf({ ...capstan, maintenance: { ...capstan.maintenance, exclusions: [freeze] } }, 'REGULAR', now)
      .policy as never;
    expect(settingsDrift(withFreeze, gkeClusterSettingsOf(capstan, 'REGULAR', now))).toEqual([
      {
        setting: 'maintenance_policy',
        provider: 'window FR,SA 23:30 UTC for 360 min; exclusions console-freeze (NO_UPGRADES, 2027-01-10T00:00:00.000Z to 2027-01-12T00:00:00.000Z)',
        capstan: 'window FR,SA 23:30 UTC for 360 min; no exclusions',
      },
    ]);
  });
});

describe('GKE settings from the configuration', () => {
  const env = {
    DATABASE_URL: 'postgresql://capstan@127.0.0.1:5432/capstan',
    REDIS_URL: 'redis://127.0.0.1:6379',
    SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  };

  it('say why there is no driver without a project or without explicit credentials', () => {
    expect(gkeSettingsFrom(loadConfig(env).gke)).toEqual({ unavailable: expect.stringContaining('GKE_PROJECT') });
    expect(gkeSettingsFrom(loadConfig({ ...env, GKE_PROJECT: 'capstan-prod' }).gke)).toEqual({ unavailable: expect.stringContaining('GKE_TOKEN_URL') });
  });

  it('point the driver at the configured endpoint with a token endpoint and per-region locations', () => {
    const settings = gkeSettingsFrom(
      loadConfig({
        ...env,
        GKE_PROJECT: 'capstan-prod',
        GKE_API_ENDPOINT: 'http://127.0.0.1:8091/',
        GKE_TOKEN_URL: 'http://127.0.0.1:8091/token',
        GKE_CLIENT_SECRET: 's3cret',
        GKE_RELEASE_CHANNEL: 'STABLE',
        GKE_NODE_ZONES: 'europe-west6=europe-west6-c',
        GKE_TLS_SERVER_NAME_FROM_DNS_ENDPOINT: 'true',
      }).gke,
    );
    expect(settings).toMatchObject({
      project: 'capstan-prod',
      apiEndpoint: 'http://127.0.0.1:8091',
      credentials: { kind: 'token-endpoint', url: 'http://127.0.0.1:8091/token', clientSecret: 's3cret' },
      releaseChannel: 'STABLE',
      nodeZones: { 'europe-west6': 'europe-west6-c' },
      serverNameFromDnsEndpoint: true,
    });
  });

  it.each([
    ['GKE_PROJECT', 'Capstan_Prod', 'must be a Google Cloud project id'],
    ['GKE_RELEASE_CHANNEL', 'weekly', 'must be RAPID, REGULAR, STABLE or EXTENDED'],
    ['GKE_NODE_ZONES', 'europe-west6', 'must be region=value pairs'],
    ['GKE_API_ENDPOINT', 'http://127.0.0.1:8091/v1', 'must be a scheme and host'],
  ])('refuse %s=%s in one line', (setting, value, message) => {
    expect(() => loadConfig({ ...env, [setting]: value })).toThrow(`Invalid configuration: ${setting} ${message}`);
  });
});
