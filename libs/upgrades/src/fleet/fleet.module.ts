import { EventRecordingModule } from '@capstan/events';
import { ClusterProvidersModule } from '@capstan/kube';
import { OperationHistory } from '@capstan/operations';
import { AuditLog } from '@capstan/tenancy';
import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { AdvanceRollouts } from './advance-rollouts';
import { ComponentScansRepository, ScanClusterComponents } from './component-scan';
import { FleetClusterSource } from './fleet-cluster-source';
import { FleetPolicyConfig } from './fleet-policy';
import { FLEET_QUEUE, FleetProcessor, FleetSchedulers } from './fleet-scheduler';
import { RolloutsRepository } from './rollouts.repository';
import { ScheduleFleetUpgrades } from './schedule-fleet-upgrades';

/**
 * The fleet auto-upgrade use cases, without the queue: what the worker's scheduler and the tests
 * (with an injected clock) call. The composition root passes the class answering
 * {@link FleetClusterSource} and the modules it needs (docs/architecture.md, "Feature-to-feature calls").
 */
@Module({})
export class FleetRolloutsModule {
  static withSource(source: Type<FleetClusterSource>, imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: FleetRolloutsModule,
      imports: [...(imports ?? []), EventRecordingModule, ClusterProvidersModule],
      providers: [
        { provide: FleetClusterSource, useClass: source },
        { provide: FleetPolicyConfig, useValue: new FleetPolicyConfig() },
        RolloutsRepository,
        OperationHistory,
        AuditLog,
        ScheduleFleetUpgrades,
        AdvanceRollouts,
        ComponentScansRepository,
        ScanClusterComponents,
      ],
      exports: [ScheduleFleetUpgrades, AdvanceRollouts, RolloutsRepository, ScanClusterComponents],
    };
  }
}

/** The worker's fleet scheduler: the `fleet` queue, its job schedulers and its processor. */
@Module({})
export class FleetSchedulerModule {
  static withSource(source: Type<FleetClusterSource>, imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: FleetSchedulerModule,
      imports: [FleetRolloutsModule.withSource(source, imports), BullModule.registerQueueAsync({ name: FLEET_QUEUE })],
      providers: [FleetSchedulers, FleetProcessor],
    };
  }
}
