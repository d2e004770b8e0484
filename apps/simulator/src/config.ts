import { isIP } from 'node:net';
import { z } from 'zod';
import type { SimulatorOptions } from './simulator';

/**
 * The simulator's settings when it runs alone (main.ts), read from the environment once and
 * validated; the launcher and tests pass options to startSimulator directly instead.
 */
const port = (fallback: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(fallback);

const postgresUrl = z
  .string()
  .url('must be a URL')
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgresql:// URL');

const dnsName = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const simulatorEnvironment = z.object({
  SIMULATOR_DATABASE_URL: postgresUrl.optional(),
  DATABASE_URL: postgresUrl.optional(),
  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  // The name other containers or pods reach it by (URLs it hands out, serving certificate).
  SIMULATOR_ADVERTISE_HOST: z
    .string()
    .refine((value) => dnsName.test(value) || isIP(value) !== 0, 'must be a lower-case DNS name or an IP address')
    .optional(),
  // Where to write the management cluster's kubeconfig (a volume the drivers' processes mount).
  SIMULATOR_MANAGEMENT_KUBECONFIG: z.string().min(1).optional(),
  SIMULATOR_CLUSTERS_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a namespace name (a DNS label)')
    .default('capstan-clusters'),
  SIMULATOR_PORT: port(8090),
  SIMULATOR_KUBE_PORT: port(8443),
  SIMULATOR_GKE_PORT: port(8091),
  SIMULATOR_KUBE_DOMAIN: z.string().regex(dnsName, 'must be a lower-case DNS name').default('clusters.simulator.capstan.test'),
  SIMULATOR_API_TOKEN: z.string().regex(/^[A-Za-z0-9._~+/=-]{32,256}$/, 'must be 32 to 256 characters of a bearer token'),
  SIMULATOR_STEP_DELAY_MS: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(0).max(3_600_000).default(3000),
  SIMULATOR_EVENT_TTL_SECONDS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1)
    .max(30 * 86_400)
    .default(3600),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface SimulatorConfig {
  options: Omit<SimulatorOptions, 'log'>;
  /** The management cluster as the drivers find it: kubeconfig file (when set) and namespace. */
  management: { kubeconfigPath?: string; namespace: string };
  logLevel: string;
}

export class SimulatorConfigError extends Error {
  constructor(setting: string, problem: string) {
    super(`Invalid configuration: ${setting} ${problem}`);
    this.name = 'SimulatorConfigError';
  }
}

export function loadSimulatorConfig(env: Record<string, string | undefined> = process.env): SimulatorConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = simulatorEnvironment.safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const setting = String(issue.path[0] ?? 'environment');
    const got = present[setting];
    if (got === undefined) throw new SimulatorConfigError(setting, 'is required');
    throw new SimulatorConfigError(setting, /_URL$|TOKEN/.test(setting) ? issue.message : `${issue.message} (got "${got}")`);
  }
  const e = result.data;
  const databaseUrl = e.SIMULATOR_DATABASE_URL ?? e.DATABASE_URL;
  if (!databaseUrl) throw new SimulatorConfigError('SIMULATOR_DATABASE_URL', 'is required (or DATABASE_URL)');
  return {
    options: {
      databaseUrl,
      host: e.SIMULATOR_HOST,
      ...(e.SIMULATOR_ADVERTISE_HOST ? { advertiseHost: e.SIMULATOR_ADVERTISE_HOST } : {}),
      apiPort: e.SIMULATOR_PORT,
      kubePort: e.SIMULATOR_KUBE_PORT,
      gkePort: e.SIMULATOR_GKE_PORT,
      kubeDomain: e.SIMULATOR_KUBE_DOMAIN,
      stepDelayMs: e.SIMULATOR_STEP_DELAY_MS,
      eventTtlSeconds: e.SIMULATOR_EVENT_TTL_SECONDS,
      apiToken: e.SIMULATOR_API_TOKEN,
    },
    management: {
      ...(e.SIMULATOR_MANAGEMENT_KUBECONFIG ? { kubeconfigPath: e.SIMULATOR_MANAGEMENT_KUBECONFIG } : {}),
      namespace: e.SIMULATOR_CLUSTERS_NAMESPACE,
    },
    logLevel: e.LOG_LEVEL,
  };
}
