import { Module } from '@nestjs/common';
import { ClusterOperationSteps } from './cluster-operation-steps';

/** The clusters library's operation steps; imported by the worker's composition root. */
@Module({ providers: [ClusterOperationSteps] })
export class ClusterOperationStepsModule {}
