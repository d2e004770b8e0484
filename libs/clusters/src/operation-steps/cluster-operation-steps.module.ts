import { Module } from '@nestjs/common';
import { ClusterOperationSteps } from './cluster-operation-steps';
import { RecordUpgradeProgress } from './upgrade-progress';

/**
 * The clusters library's operation steps, and what other features' steps record through it
 * (RecordUpgradeProgress); imported by the worker's composition root.
 */
@Module({ providers: [ClusterOperationSteps, RecordUpgradeProgress], exports: [RecordUpgradeProgress] })
export class ClusterOperationStepsModule {}
