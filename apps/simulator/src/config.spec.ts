import { loadSimulatorConfig } from './config';

const TOKEN = 'sim-0123456789abcdef0123456789abcdef';

describe('simulator configuration', () => {
  it('defaults ports and the step delay, and takes DATABASE_URL when it has no database of its own', () => {
    const config = loadSimulatorConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/capstan', SIMULATOR_API_TOKEN: TOKEN });

    expect(config.options).toEqual({
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/capstan',
      host: '127.0.0.1',
      apiPort: 8090,
      kubePort: 8443,
      gkePort: 8091,
      kubeDomain: 'clusters.simulator.capstan.test',
      stepDelayMs: 3000,
      eventTtlSeconds: 3600,
      apiToken: TOKEN,
    });
    expect(config.options).not.toHaveProperty('advertiseHost');
    expect(config.management).toEqual({ namespace: 'capstan-clusters' });
  });

  it('prefers SIMULATOR_DATABASE_URL and reads every setting', () => {
    const config = loadSimulatorConfig({
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/capstan',
      SIMULATOR_DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/cloud',
      SIMULATOR_HOST: '0.0.0.0',
      SIMULATOR_ADVERTISE_HOST: 'simulator',
      SIMULATOR_MANAGEMENT_KUBECONFIG: '/var/lib/capstan/simulator/management.kubeconfig',
      SIMULATOR_CLUSTERS_NAMESPACE: 'rke2-clusters',
      SIMULATOR_PORT: '9090',
      SIMULATOR_KUBE_PORT: '9443',
      SIMULATOR_GKE_PORT: '9091',
      SIMULATOR_KUBE_DOMAIN: 'kube.example.net',
      SIMULATOR_STEP_DELAY_MS: '0',
      SIMULATOR_EVENT_TTL_SECONDS: '600',
      SIMULATOR_API_TOKEN: TOKEN,
    });

    expect(config.options).toEqual({
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/cloud',
      host: '0.0.0.0',
      advertiseHost: 'simulator',
      apiPort: 9090,
      kubePort: 9443,
      gkePort: 9091,
      kubeDomain: 'kube.example.net',
      stepDelayMs: 0,
      eventTtlSeconds: 600,
      apiToken: TOKEN,
    });
    expect(config.management).toEqual({ kubeconfigPath: '/var/lib/capstan/simulator/management.kubeconfig', namespace: 'rke2-clusters' });
  });

  it('names the bad setting in one line', () => {
    expect(() => loadSimulatorConfig({ SIMULATOR_API_TOKEN: TOKEN })).toThrow('Invalid configuration: SIMULATOR_DATABASE_URL is required (or DATABASE_URL)');
    // Its API wants a credential like a real cloud's: running alone, it has to be given one.
    expect(() => loadSimulatorConfig({ DATABASE_URL: 'postgresql://x/y' })).toThrow('Invalid configuration: SIMULATOR_API_TOKEN is required');
    expect(() => loadSimulatorConfig({ DATABASE_URL: 'postgresql://x/y', SIMULATOR_API_TOKEN: 'short' })).toThrow(
      'Invalid configuration: SIMULATOR_API_TOKEN must be 32 to 256 characters of a bearer token',
    );
    expect(() => loadSimulatorConfig({ DATABASE_URL: 'postgresql://x/y', SIMULATOR_API_TOKEN: TOKEN, SIMULATOR_PORT: 'eighty' })).toThrow(
      'Invalid configuration: SIMULATOR_PORT must be a number (got "eighty")',
    );
    expect(() => loadSimulatorConfig({ DATABASE_URL: 'postgresql://x/y', SIMULATOR_API_TOKEN: TOKEN, SIMULATOR_KUBE_DOMAIN: 'Kube_Domain' })).toThrow(
      'Invalid configuration: SIMULATOR_KUBE_DOMAIN must be a lower-case DNS name (got "Kube_Domain")',
    );
    expect(() => loadSimulatorConfig({ DATABASE_URL: 'postgresql://x/y', SIMULATOR_API_TOKEN: TOKEN, SIMULATOR_ADVERTISE_HOST: 'http://simulator' })).toThrow(
      'Invalid configuration: SIMULATOR_ADVERTISE_HOST must be a lower-case DNS name or an IP address (got "http://simulator")',
    );
    expect(() => loadSimulatorConfig({ DATABASE_URL: 'postgresql://x/y', SIMULATOR_API_TOKEN: TOKEN, SIMULATOR_CLUSTERS_NAMESPACE: 'Clusters' })).toThrow(
      'Invalid configuration: SIMULATOR_CLUSTERS_NAMESPACE must be a namespace name (a DNS label) (got "Clusters")',
    );
    expect(() => loadSimulatorConfig({ DATABASE_URL: 'mysql://x/y', SIMULATOR_API_TOKEN: TOKEN })).toThrow(
      'Invalid configuration: DATABASE_URL must be a postgresql:// URL',
    );
  });
});
