import { loadConfig, preflight } from '@capstan/platform';
import { rke2DriverSource } from '@capstan/providers';
import { HelmTemplateError, renderChart, WORKSPACE_ROOT } from '@capstan/testing';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { loadSimulatorConfig } from '../src';

/**
 * Docker Compose and the Helm chart run Capstan's real drivers against the simulator unless a
 * real management cluster is configured. No Docker engine or helm binary here: the Compose files
 * are read as Compose reads them (YAML merge keys, `${VAR:-default}` interpolation, override
 * files) and the chart is rendered by the in-repo renderer; each process's environment is then
 * loaded by the process's own config loader.
 */

const APPS = ['api', 'worker', 'sla-monitor'] as const;
const USER_ENV = {
  CAPSTAN_SECRETS_KEYS: `local1:${Buffer.alloc(32, 7).toString('base64')}`,
  CAPSTAN_SIMULATOR_TOKEN: 'sim-0123456789abcdef0123456789abcdef',
};

// ------------------------------------------------------------------------- Docker Compose

interface ComposeService {
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string; required?: boolean }>;
  healthcheck?: { test: string[] };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

function readCompose(path: string): ComposeFile {
  return parse(readFileSync(join(WORKSPACE_ROOT, path), 'utf8'), { merge: true }) as ComposeFile;
}

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$`. */
function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Z0-9_]+)(?:(:?)([-?])((?:[^{}]|\$\{[^}]*\})*))?\}/g,
      (whole, name: string | undefined, colon, kind, argument: string) => {
        if (whole === '$$') return '$';
        const set = env[name!];
        const missing = set === undefined || (colon === ':' && set === '');
        if (!missing || !kind) return set ?? '';
        if (kind === '-') return String(interpolate(argument, env));
        throw new Error(`required variable ${name} is missing a value: ${argument}`);
      },
    );
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}

/** Compose's merge of an override file: maps merge per key, volumes by target, the rest replaces. */
function mergeCompose(base: ComposeFile, override: ComposeFile): ComposeFile {
  const services = { ...base.services };
  for (const [name, changes] of Object.entries(override.services)) {
    const merged: ComposeService = { ...services[name], ...changes };
    const before = services[name] ?? {};
    if (before.environment || changes.environment) merged.environment = { ...before.environment, ...changes.environment };
    if (before.depends_on || changes.depends_on) merged.depends_on = { ...before.depends_on, ...changes.depends_on };
    if (before.volumes || changes.volumes) {
      const byTarget = new Map<string, string>();
      for (const volume of [...(before.volumes ?? []), ...(changes.volumes ?? [])]) byTarget.set(mount(volume).target, volume);
      merged.volumes = [...byTarget.values()];
    }
    services[name] = merged;
  }
  return { ...base, services };
}

function mount(volume: string): { source: string; target: string; readOnly: boolean } {
  const [source, target, mode] = volume.split(':');
  return { source: source!, target: target!, readOnly: mode === 'ro' };
}

/** Services `docker compose up` starts: those without a profile (no --profile given). */
function started(file: ComposeFile): string[] {
  return Object.entries(file.services)
    .filter(([, service]) => !service.profiles?.length)
    .map(([name]) => name);
}

function environment(service: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

function mountHolding(service: ComposeService, file: string) {
  return (service.volumes ?? []).map(mount).find((m) => file === m.target || file.startsWith(`${m.target}/`));
}

describe('docker-compose.yml', () => {
  const compose = interpolate(readCompose('docker-compose.yml'), USER_ENV) as ComposeFile;
  const simulator = compose.services.simulator!;
  const simulatorEnv = environment(simulator);
  const simulatorSettings = loadSimulatorConfig(simulatorEnv);

  it('runs the simulator by default, advertising its service name, its kubeconfig on a named volume', () => {
    expect(started(compose)).toEqual(expect.arrayContaining(['simulator', ...APPS]));
    expect(simulator.command).toEqual(['node', 'dist/apps/simulator/src/main.js']);
    expect(simulatorSettings.options.advertiseHost).toBe('simulator');
    expect(simulatorSettings.options.host).toBe('0.0.0.0');

    const kubeconfig = simulatorSettings.management.kubeconfigPath!;
    const written = mountHolding(simulator, kubeconfig);
    expect(written).toMatchObject({ readOnly: false });
    expect(Object.keys(compose.volumes ?? {})).toContain(written!.source);
    // The health check asks /readyz on the simulator's API port, which says ready once the file is written.
    expect(simulator.healthcheck!.test.at(-1)).toBe(String(simulatorSettings.options.apiPort));
    expect(simulator.healthcheck!.test.join(' ')).toContain('/readyz');
    // kubectl on the host reaches the emulated API servers on the published port.
    expect(simulator.ports).toContain(`${simulatorSettings.options.kubePort}:${simulatorSettings.options.kubePort}`);
  });

  it.each(APPS)('gives %s the real drivers, pointed at the simulator', (name) => {
    const app = compose.services[name]!;
    const config = loadConfig(environment(app));
    expect(config.provider.driver).toBe('drivers');

    // The kubeconfig path is on the volume the simulator writes, mounted read-only.
    const kubeconfig = config.rke2.managementKubeconfigPath!;
    const mounted = mountHolding(app, kubeconfig);
    const written = mountHolding(simulator, simulatorSettings.management.kubeconfigPath!);
    expect(mounted).toMatchObject({ source: written!.source, readOnly: true });
    expect(posix.relative(mounted!.target, kubeconfig)).toBe(posix.relative(written!.target, simulatorSettings.management.kubeconfigPath!));
    expect(config.rke2.namespace).toBe(simulatorSettings.management.namespace);

    // GKE and the staff chaos routes reach the simulator by its service name, on its ports.
    expect(new URL(config.gke.apiEndpoint)).toMatchObject({ hostname: 'simulator', port: String(simulatorSettings.options.gkePort) });
    expect(config.gke.tokenUrl).toBe(`${config.gke.apiEndpoint}/token`);
    expect(config.gke.clientSecret).toBe(simulatorSettings.options.apiToken);
    expect(config.gke.project).toBeDefined();
    expect(config.gke.tlsServerNameFromDnsEndpoint).toBe(true);
    expect(new URL(config.provider.simulatorUrl)).toMatchObject({ hostname: 'simulator', port: String(simulatorSettings.options.apiPort) });
    expect(config.provider.simulatorToken).toBe(simulatorSettings.options.apiToken);

    // Started only once the simulator is healthy, i.e. the kubeconfig is on the volume.
    expect(app.depends_on?.simulator?.condition).toBe('service_healthy');
  });

  describe('with a real management cluster (deploy/compose/management-cluster.yml)', () => {
    const raw = mergeCompose(readCompose('docker-compose.yml'), readCompose('deploy/compose/management-cluster.yml'));
    const userKubeconfig = '/home/me/.kube/management.yaml';
    const real = interpolate(raw, { ...USER_ENV, CAPSTAN_MANAGEMENT_KUBECONFIG: userKubeconfig }) as ComposeFile;

    it('runs no simulator, and the apps do not wait for one', () => {
      expect(started(real)).not.toContain('simulator');
      expect(started(real)).toEqual(expect.arrayContaining([...APPS]));
      for (const name of APPS) expect(real.services[name]!.depends_on?.simulator).toMatchObject({ required: false });
    });

    it.each(APPS)("mounts the user's kubeconfig into %s read-only and points RKE2 at it", (name) => {
      const app = real.services[name]!;
      const config = loadConfig(environment(app));
      expect(config.provider.driver).toBe('drivers');
      expect(mountHolding(app, config.rke2.managementKubeconfigPath!)).toEqual({
        source: userKubeconfig,
        target: config.rke2.managementKubeconfigPath,
        readOnly: true,
      });
      // GKE is the real API, and not offered until a project is set.
      expect(config.gke.apiEndpoint).toBe('https://container.googleapis.com');
      expect(config.gke.project).toBeUndefined();
      expect(config.gke.tlsServerNameFromDnsEndpoint).toBe(false);
    });

    it('takes a GKE project and credential from the environment', () => {
      const withGke = interpolate(raw, {
        ...USER_ENV,
        CAPSTAN_MANAGEMENT_KUBECONFIG: userKubeconfig,
        GKE_PROJECT: 'acme-prod-123',
        GKE_ACCESS_TOKEN: 'ya29.x',
      }) as ComposeFile;
      const config = loadConfig(environment(withGke.services.worker!));
      expect(config.gke).toMatchObject({ project: 'acme-prod-123', accessToken: 'ya29.x', apiEndpoint: 'https://container.googleapis.com' });
    });

    it('refuses to start without the kubeconfig path, in one line naming the setting', () => {
      expect(() => interpolate(raw, USER_ENV)).toThrow(
        /^required variable CAPSTAN_MANAGEMENT_KUBECONFIG is missing a value: set CAPSTAN_MANAGEMENT_KUBECONFIG to [^\n]+$/,
      );
    });

    it('stops the processes at boot with one line when the mounted kubeconfig cannot be read', () => {
      // The mounted path of the real variant does not exist on this machine: what a typo on the host gives.
      const config = loadConfig(environment(real.services.worker!));
      expect(preflight(config)?.message).toBe(`Invalid configuration: RKE2_MANAGEMENT_KUBECONFIG does not exist: ${config.rke2.managementKubeconfigPath}`);
    });
  });
});

// ------------------------------------------------------------------------- Helm chart

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string } };
}
interface Container {
  name: string;
  command?: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  readinessProbe?: { httpGet?: { path: string; port: string } };
}
interface Volume {
  name: string;
  emptyDir?: object;
  secret?: { secretName: string; items: { key: string; path: string }[] };
}
interface Workload {
  kind: string;
  metadata: { name: string };
  spec: {
    selector?: Record<string, unknown>;
    ports?: { name: string; port: number; targetPort: string }[];
    template?: { spec: { containers: Container[]; initContainers?: Container[]; volumes: Volume[] } };
  };
}

const chartDir = join(WORKSPACE_ROOT, 'deploy', 'helm', 'capstan');
const SECRET = 'capstan-credentials';

function renderWithNotes(values: Record<string, unknown> = {}) {
  const rendered = renderChart(chartDir, { release: 'prod', values: { secrets: { existingSecret: SECRET }, ...values } });
  return { objects: rendered.objects as unknown as Workload[], notes: rendered.files['NOTES.txt']! };
}

function render(values: Record<string, unknown> = {}) {
  return renderWithNotes(values).objects;
}

function find(objects: Workload[], kind: string, name: string): Workload {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

/** A container's environment as the kubelet would give it, with Secret references as `secret:<name>/<key>`. */
function containerEnv(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    env[variable.name] = variable.valueFrom ? `secret:${variable.valueFrom.secretKeyRef.name}/${variable.valueFrom.secretKeyRef.key}` : variable.value!;
  }
  return env;
}

/** Secret references replaced by plausible values so that the config loaders can judge the rest. */
function resolved(env: Record<string, string>): Record<string, string> {
  const samples: Record<string, string> = {
    DATABASE_URL: 'postgresql://capstan@pg:5432/capstan',
    REDIS_URL: 'redis://redis:6379',
    SECRETS_KEYS: USER_ENV.CAPSTAN_SECRETS_KEYS,
    SIMULATOR_API_TOKEN: USER_ENV.CAPSTAN_SIMULATOR_TOKEN,
    'gke-client-secret': 'client-secret',
  };
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.startsWith('secret:') ? (samples[v.split('/')[1]!] ?? 'from-secret') : v]));
}

describe('the Helm chart', () => {
  describe('by default (no management cluster Secret): the emulator', () => {
    const objects = render();
    const simulatorName = 'prod-capstan-simulator';
    const deployment = find(objects, 'Deployment', simulatorName);
    const service = find(objects, 'Service', simulatorName);
    const simulatorContainer = deployment.spec.template!.spec.containers[0]!;
    const simulatorSettings = loadSimulatorConfig(resolved(containerEnv(simulatorContainer)));

    it('runs the simulator behind a Service whose name it advertises, with ports that agree', () => {
      expect(simulatorContainer.command).toEqual(['node', 'dist/apps/simulator/src/main.js']);
      expect(simulatorSettings.options.advertiseHost).toBe(service.metadata.name);
      const containerPorts = Object.fromEntries(simulatorContainer.ports!.map((p) => [p.name, p.containerPort]));
      expect(containerPorts).toEqual({
        api: simulatorSettings.options.apiPort,
        gke: simulatorSettings.options.gkePort,
        kube: simulatorSettings.options.kubePort,
      });
      for (const port of service.spec.ports!) expect(port.port).toBe(containerPorts[port.targetPort]);
      expect(simulatorContainer.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'api' });
      expect(containerEnv(simulatorContainer).SIMULATOR_API_TOKEN).toBe(`secret:${SECRET}/SIMULATOR_API_TOKEN`);
    });

    it.each(APPS)('gives %s the real drivers, the kubeconfig fetched from the simulator into a shared volume', (name) => {
      const pod = find(objects, 'Deployment', `prod-capstan-${name}`).spec.template!.spec;
      const app = pod.containers[0]!;
      const config = loadConfig(resolved(containerEnv(app)));
      expect(config.provider.driver).toBe('drivers');

      const kubeconfig = config.rke2.managementKubeconfigPath!;
      const appMount = app.volumeMounts!.find((m) => kubeconfig.startsWith(`${m.mountPath}/`))!;
      expect(appMount).toMatchObject({ readOnly: true });
      expect(pod.volumes.find((v) => v.name === appMount.name)).toMatchObject({ emptyDir: expect.any(Object) });

      // The init container writes that very file, from the simulator's Service, with its token.
      const init = pod.initContainers!.find((c) => c.name === 'management-kubeconfig')!;
      const initEnv = containerEnv(init);
      const initMount = init.volumeMounts!.find((m) => m.name === appMount.name)!;
      expect(initMount.readOnly).toBeFalsy();
      expect(posix.join(initMount.mountPath, posix.relative(initMount.mountPath, initEnv.KUBECONFIG_PATH!))).toBe(
        posix.join(appMount.mountPath, posix.relative(appMount.mountPath, kubeconfig)),
      );
      expect(new URL(initEnv.SIMULATOR_URL!)).toMatchObject({ hostname: service.metadata.name, port: String(simulatorSettings.options.apiPort) });
      expect(initEnv.SIMULATOR_API_TOKEN).toBe(containerEnv(simulatorContainer).SIMULATOR_API_TOKEN);
      expect(init.command!.join('\n')).toContain('/v1/management/kubeconfig');

      expect(config.rke2.namespace).toBe(simulatorSettings.management.namespace);
      expect(new URL(config.gke.apiEndpoint)).toMatchObject({ hostname: service.metadata.name, port: String(simulatorSettings.options.gkePort) });
      expect(config.gke.tokenUrl).toBe(`${config.gke.apiEndpoint}/token`);
      expect(config.gke.tlsServerNameFromDnsEndpoint).toBe(true);
      expect(containerEnv(app).GKE_CLIENT_SECRET).toBe(containerEnv(simulatorContainer).SIMULATOR_API_TOKEN);
      expect(new URL(config.provider.simulatorUrl)).toMatchObject({ hostname: service.metadata.name, port: String(simulatorSettings.options.apiPort) });
    });
  });

  describe('with a real management cluster and GKE project', () => {
    const objects = render({
      rke2: { managementKubeconfigSecret: 'mgmt', managementKubeconfigKey: 'value' },
      gke: {
        project: 'acme-prod-123',
        tokenUrl: 'https://oauth2.example.com/token',
        credentialsSecret: 'gke-creds',
        keys: { clientSecret: 'gke-client-secret' },
      },
    });

    it('runs no simulator, and says where clusters go after the install', () => {
      expect(objects.filter((o) => o.metadata.name.endsWith('-simulator'))).toEqual([]);
      const { notes } = renderWithNotes({ rke2: { managementKubeconfigSecret: 'mgmt' } });
      expect(notes).toContain('RKE2 on the management cluster of Secret mgmt (namespace capstan-clusters)');
      expect(renderWithNotes().notes).toContain('RKE2 and GKE run against the simulator prod-capstan-simulator');
    });

    it.each(APPS)("mounts the kubeconfig Secret into %s read-only and gives GKE the project's credentials", (name) => {
      const pod = find(objects, 'Deployment', `prod-capstan-${name}`).spec.template!.spec;
      expect(pod.initContainers ?? []).toEqual([]);
      const app = pod.containers[0]!;
      const env = containerEnv(app);
      const config = loadConfig(resolved(env));
      expect(config.provider.driver).toBe('drivers');

      const kubeconfig = config.rke2.managementKubeconfigPath!;
      const appMount = app.volumeMounts!.find((m) => kubeconfig.startsWith(`${m.mountPath}/`))!;
      expect(appMount).toMatchObject({ readOnly: true });
      expect(pod.volumes.find((v) => v.name === appMount.name)!.secret).toMatchObject({
        secretName: 'mgmt',
        items: [{ key: 'value', path: posix.relative(appMount.mountPath, kubeconfig) }],
      });

      expect(config.gke).toMatchObject({
        project: 'acme-prod-123',
        apiEndpoint: 'https://container.googleapis.com',
        tokenUrl: 'https://oauth2.example.com/token',
      });
      expect(config.gke.tlsServerNameFromDnsEndpoint).toBe(false);
      expect(env.GKE_CLIENT_SECRET).toBe('secret:gke-creds/gke-client-secret');
      expect(env).not.toHaveProperty('SIMULATOR_URL');
    });
  });

  it('refuses the emulator together with a management cluster Secret, and GKE without credentials', () => {
    expect(() => render({ emulator: { enabled: true }, rke2: { managementKubeconfigSecret: 'mgmt' } })).toThrow(HelmTemplateError);
    expect(() => render({ emulator: { enabled: true }, rke2: { managementKubeconfigSecret: 'mgmt' } })).toThrow(/cannot be set together/);
    expect(() => render({ rke2: { managementKubeconfigSecret: 'mgmt' }, gke: { project: 'acme-prod-123' } })).toThrow(/gke\.credentialsSecret is required/);
  });

  it('leaves RKE2 without a management cluster when the emulator is switched off and no Secret is given', () => {
    const objects = render({ emulator: { enabled: false } });
    expect(objects.filter((o) => o.metadata.name.endsWith('-simulator'))).toEqual([]);
    const config = loadConfig(resolved(containerEnv(find(objects, 'Deployment', 'prod-capstan-worker').spec.template!.spec.containers[0]!)));
    expect(config.rke2.managementKubeconfigPath).toBeUndefined();
    expect(rke2DriverSource(config.rke2)).toEqual({ unavailable: expect.stringContaining('RKE2_MANAGEMENT_KUBECONFIG') });
  });
});
