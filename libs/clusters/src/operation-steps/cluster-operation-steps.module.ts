import { Module } from '@nestjs/common';
import { ClusterOperationSteps } from './cluster-operation-steps';
import { RecordRestore } from './restore-progress';
import { RecordUpgradeProgress } from './upgrade-progress';

/**
 * The clusters library's operation steps, and what other features' steps record through it
 * (RecordUpgradeProgress, RecordRestore); imported by the worker's composition root.
 */
@Module({ providers: [ClusterOperationSteps, RecordUpgradeProgress, RecordRestore], exports: [RecordUpgradeProgress, RecordRestore] })
export class ClusterOperationStepsModule {}
