import { GkeConfig, Rke2Config } from '@capstan/platform';
import { Module } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { ConfiguredDriverRegistry, type DriverSource } from './driver-registry';
import { gkeDriverSource } from './gke/gke-source';
import { DriverRegistry } from './infrastructure-driver';
import { Rke2Driver } from './rke2/rke2-driver';
import { configuredInfrastructure, DEFAULT_RKE2_SETTINGS, type Rke2DriverSettings } from './rke2/rke2-settings';

/** The RKE2 driver's settings from the validated configuration (RKE2_* settings). */
export function rke2SettingsFrom(config: Rke2Config): Rke2DriverSettings {
  return {
    ...DEFAULT_RKE2_SETTINGS,
    namespace: config.namespace,
    controlPlaneReplicas: config.controlPlaneReplicas,
    controlPlaneMachineType: config.controlPlaneMachineType,
    etcdS3: config.etcdS3,
    infrastructure: configuredInfrastructure({
      apiVersion: config.infrastructureApiVersion,
      machineTemplateKind: config.infrastructureTemplateKind,
      ...(config.infrastructureClusterKind ? { clusterKind: config.infrastructureClusterKind } : {}),
      ...(config.infrastructureMachineSpec ? { machineSpecJson: config.infrastructureMachineSpec } : {}),
    }),
  };
}

/**
 * Where the RKE2 driver comes from. The kubeconfig is read here, at boot, so a wrong path stops
 * the process with one line instead of failing every cluster operation later.
 */
export function rke2DriverSource(config: Rke2Config): DriverSource {
  const path = config.managementKubeconfigPath;
  if (!path) return { unavailable: 'RKE2 clusters need a management cluster, and this installation has none configured (RKE2_MANAGEMENT_KUBECONFIG)' };
  let kubeconfig: string;
  try {
    kubeconfig = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`RKE2_MANAGEMENT_KUBECONFIG: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const settings = rke2SettingsFrom(config);
  return { create: () => new Rke2Driver({ kubeconfig, settings, timeoutMs: config.requestTimeoutMs }) };
}

/**
 * Provides DriverRegistry: the infrastructure driver for each cluster, from its `provider`
 * (one installation sells both RKE2 and GKE).
 */
@Module({
  providers: [
    {
      provide: DriverRegistry,
      inject: [Rke2Config, GkeConfig],
      useFactory: (rke2: Rke2Config, gke: GkeConfig): DriverRegistry =>
        new ConfiguredDriverRegistry({ rke2: rke2DriverSource(rke2), gke: gkeDriverSource(gke) }),
    },
  ],
  exports: [DriverRegistry],
})
export class DriverRegistryModule {}
