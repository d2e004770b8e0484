import type { ProviderCall } from './calls';
import { type ClusterRow, findCluster } from './cloud/context';
import type { NodePoolRecord } from './cloud/node-pools';
import type { SimulatorDatabase } from './database';
import type { FaultInjector } from './faults';

export interface AdmittedCall {
  /** The call's cluster as the call finds it (settled), or null when there is none. */
  cluster: ClusterRow | null;
  /**
   * For a call on a node pool: the pool as the call finds it (settled), null when there is none;
   * undefined when it was not read (a fault was armed, or the cluster does not exist).
   */
  pool?: NodePoolRecord | null;
  /** Whether a fault may still fail the call once it has taken effect. */
  responseFaults: boolean;
}

/**
 * The start of every port call: counted, checked against injected faults, and handed its cluster,
 * all in one round trip (`simulator.begin_call`) when no fault is armed for it, which is nearly
 * always. When one is, the faults are applied as they always were, by FaultInjector, so a
 * `fail_once` is still claimed in one statement and fires once across calls and simulators.
 */
export class CallAdmission {
  constructor(
    private readonly db: SimulatorDatabase,
    private readonly faults: FaultInjector,
  ) {}

  async admit(call: ProviderCall, cluster: string, pool?: string): Promise<AdmittedCall> {
    const [row] = await this.db.query<
      ClusterRow & { request_faults: boolean; response_faults: boolean; pool?: { pool: NodePoolRecord; nodes: NodePoolRecord['nodes'] } | null }
    >(
      pool === undefined
        ? 'SELECT a.request_faults, a.response_faults, (a.cluster).* FROM simulator.begin_call($1, $2) a'
        : 'SELECT a.request_faults, a.response_faults, a.pool, (a.cluster).* FROM simulator.begin_pool_call($1, $2, $3) a',
      pool === undefined ? [call, cluster] : [call, cluster, pool],
    );
    const { request_faults: requestFaults, response_faults: responseFaults, pool: poolView, ...found } = row!;
    if (!requestFaults) {
      if (found.name === null) return { cluster: null, responseFaults };
      return { cluster: found, pool: poolView === undefined ? undefined : poolView && { ...poolView.pool, nodes: poolView.nodes }, responseFaults };
    }

    await this.faults.intercept(call, cluster, 'request');
    return { cluster: await findCluster(this.db.pool, cluster), responseFaults };
  }
}
