import { ProviderError } from './cluster-provider';
import { DriverRegistry, type InfrastructureDriver, type InfrastructureProvider } from './infrastructure-driver';

/** Builds a driver, or says in one sentence why this installation has none for the provider. */
export type DriverSource = { create: () => InfrastructureDriver } | { unavailable: string };

/**
 * The drivers of one installation, by provider: each is built once, on first use, so a process
 * that never touches GKE clusters never needs GKE credentials. A provider without a driver fails
 * the calls for it with a final ProviderError that says why (an operation fails with that reason
 * instead of retrying), not the process's boot: an installation may sell one provider only.
 */
export class ConfiguredDriverRegistry extends DriverRegistry {
  private readonly built = new Map<InfrastructureProvider, InfrastructureDriver>();

  constructor(private readonly sources: Record<InfrastructureProvider, DriverSource>) {
    super();
  }

  driverFor(provider: InfrastructureProvider): InfrastructureDriver {
    const existing = this.built.get(provider);
    if (existing) return existing;
    const source = this.sources[provider];
    if (!source) throw new ProviderError(`no driver is known for provider "${provider}"`, false, 'driver_unavailable');
    if ('unavailable' in source) throw new ProviderError(source.unavailable, false, 'driver_unavailable');
    const driver = source.create();
    this.built.set(provider, driver);
    return driver;
  }
}
