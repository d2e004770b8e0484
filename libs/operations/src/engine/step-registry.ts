import { ENQUEUEABLE_OPERATION_TYPES, type OperationType, stepKinds } from '@capstan/domain';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { StepContext, StepHandler } from './step-context';

/**
 * Something an operation may have built at the provider, named as the provider knows it: what is
 * recorded as an orphan when undoing a failed create fails too (docs/operations-engine.md).
 */
export type ProviderLeftover = { kind: 'cluster'; cluster: string } | { kind: 'node_pool'; cluster: string; name: string };

/** What a feature library registers for one operation type. */
export interface OperationStepSet {
  /** A handler per step kind the type's plans can contain. */
  steps: Readonly<Record<string, StepHandler>>;
  /**
   * Undoes, at the provider, what the finished steps did, when the operation is cancelled after
   * some of them ran (a half-built cluster is deleted, a pool spec is applied back). Returns
   * whether anything was undone: only then are the finished steps marked `compensated`.
   */
  compensate?(ctx: StepContext): Promise<boolean>;
  /**
   * A failure for good is undone as a cancel is (`compensate`), not only a cancel: a create that
   * cannot finish deletes what it half-built. Needs `compensate` and `leftovers`.
   */
  compensateOnFailure?: boolean;
  /**
   * What may still exist at the provider when `compensate` failed: the engine records it as
   * orphans with the operation's end, and the reconciler deletes them later.
   */
  leftovers?(ctx: StepContext): ProviderLeftover[];
}

/** A provider that registers step sets: mark it with `@OperationStepHandlers()`. */
export interface OperationStepProvider {
  stepSets(): Partial<Record<OperationType, OperationStepSet>>;
}

/**
 * Marks a provider of a feature library whose `stepSets()` the engine runs; it is discovered at
 * boot, so the engine library never imports the features (docs/operations-engine.md).
 */
export const OperationStepHandlers = DiscoveryService.createDecorator<void>();

/** Step kinds without a handler, per enqueueable type ("type: kind, kind"), for the boot check. */
export function missingStepHandlers(sets: ReadonlyMap<string, OperationStepSet>, types: readonly OperationType[] = ENQUEUEABLE_OPERATION_TYPES): string[] {
  const missing: string[] = [];
  for (const type of types) {
    const steps = sets.get(type)?.steps ?? {};
    const kinds = stepKinds(type).filter((kind) => !steps[kind]);
    if (kinds.length > 0) missing.push(`${type}: ${kinds.join(', ')}`);
  }
  return missing;
}

/**
 * A second library may add step kinds to a type another one owns (libs/backups adds
 * `backup_before_hop` to `upgrade_cluster`), never replace one: a kind registered twice, or a second
 * `compensate`, fails the boot, so which code runs a step is never a matter of discovery order.
 */
function mergedStepSet(type: string, first: OperationStepSet, second: OperationStepSet, by: string): OperationStepSet {
  const twice = Object.keys(second.steps).filter((kind) => kind in first.steps);
  if (twice.length > 0) throw new Error(`operation type ${type} has step handlers registered twice for ${twice.join(', ')} (again by ${by})`);
  if (second.compensate || second.compensateOnFailure || second.leftovers)
    throw new Error(`operation type ${type} is compensated by the library that owns it; ${by} may only add step kinds`);
  return { ...first, steps: { ...first.steps, ...second.steps } };
}

/**
 * The step handlers of every operation type, collected at boot from the providers marked with
 * `@OperationStepHandlers()`. The boot fails when an enqueueable type lacks a handler for a step
 * kind its plans can contain, or when two providers register a handler for the same step kind.
 */
@Injectable()
export class StepRegistry implements OnModuleInit {
  private readonly sets = new Map<string, OperationStepSet>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: OperationStepHandlers.KEY })) {
      const provider = wrapper.instance as OperationStepProvider;
      for (const [type, set] of Object.entries(provider.stepSets())) {
        const existing = this.sets.get(type);
        this.sets.set(type, existing ? mergedStepSet(type, existing, set as OperationStepSet, wrapper.name) : (set as OperationStepSet));
      }
    }
    for (const [type, set] of this.sets) {
      // Undoing a failure with nothing to record when the undoing fails would be a silent leak.
      if (set.compensateOnFailure && (!set.compensate || !set.leftovers))
        throw new Error(`operation type ${type} compensates its failures but lacks compensate() or leftovers()`);
    }
    const missing = missingStepHandlers(this.sets);
    if (missing.length > 0) throw new Error(`operation steps without a handler (register them with @OperationStepHandlers()): ${missing.join('; ')}`);
  }

  forType(type: string): OperationStepSet | undefined {
    return this.sets.get(type);
  }
}
