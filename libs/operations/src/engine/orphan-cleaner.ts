import { Clock, Database, EngineConfig } from '@capstan/platform';
import { ClusterProviders } from '@capstan/providers';
import { Injectable, Logger } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type { DB } from '@capstan/platform';
import { retryDelay } from './operation-runner';

/** Orphans looked at per reconcile: the rest wait for the next period. */
const BATCH = 100;
/**
 * An orphan being cleaned is not due again for this long: a second reconcile job (a slow one
 * overlapping the next period) leaves it to the first.
 */
const CLAIM_MS = 120_000;

type OrphanRow = Pick<Selectable<DB['orphans']>, 'id' | 'kind' | 'provider' | 'external_cluster' | 'external_name' | 'attempts'>;

/**
 * Deletes, at the provider, what failed creates left behind when undoing them failed too
 * (`orphans`, recorded with the operation's end): each due orphan is deleted again and looked
 * up; once the provider has it no more it is marked resolved. A failed attempt, or a deletion
 * the provider is still carrying out, comes back after a capped, jittered backoff. Run by the
 * fleet's reconcile job (docs/operations-engine.md, Failures for good).
 */
@Injectable()
export class OrphanCleaner {
  private readonly logger = new Logger(OrphanCleaner.name);

  constructor(
    private readonly db: Database,
    private readonly providers: ClusterProviders,
    private readonly clock: Clock,
    private readonly config: EngineConfig,
  ) {}

  /** Returns how many orphans were resolved. */
  async clean(): Promise<number> {
    const now = this.clock.now();
    const due = await this.db
      .updateTable('orphans')
      .set({ next_attempt_at: new Date(now.getTime() + CLAIM_MS), updated_at: now })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('orphans')
          .select('id')
          .where('resolved_at', 'is', null)
          .where('next_attempt_at', '<=', now)
          .orderBy('next_attempt_at')
          .limit(BATCH)
          .forUpdate()
          .skipLocked(),
      )
      .returning(['id', 'kind', 'provider', 'external_cluster', 'external_name', 'attempts'])
      .execute();
    let resolved = 0;
    for (const orphan of due) if (await this.cleanOne(orphan)) resolved++;
    if (resolved > 0) this.logger.log({ resolved }, 'orphaned provider objects removed');
    return resolved;
  }

  private async cleanOne(orphan: OrphanRow): Promise<boolean> {
    let gone = false;
    let error: string | null = null;
    try {
      const provider = this.providers.for(orphan.provider);
      // Deleting what is absent succeeds (the provider contract), so a repeat is harmless.
      if (orphan.kind === 'cluster') {
        await provider.deleteCluster(orphan.external_cluster);
        gone = (await provider.getCluster(orphan.external_cluster)) === null;
      } else {
        await provider.deleteNodePool(orphan.external_cluster, orphan.external_name);
        gone = (await provider.getNodePool(orphan.external_cluster, orphan.external_name)) === null;
      }
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
      this.logger.warn({ orphanId: orphan.id, err: error }, 'removing an orphaned provider object failed; will retry');
    }
    const now = this.clock.now();
    const attempts = orphan.attempts + 1;
    await this.db
      .updateTable('orphans')
      .set({
        attempts,
        last_error: error,
        resolved_at: gone ? now : null,
        next_attempt_at: gone ? now : new Date(now.getTime() + retryDelay(this.config, attempts)),
        updated_at: now,
      })
      .where('id', '=', orphan.id)
      .where('resolved_at', 'is', null)
      .execute();
    return gone;
  }
}
