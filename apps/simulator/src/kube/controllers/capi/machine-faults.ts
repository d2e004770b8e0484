import type { SimulatorDatabase } from '../../../database';
import { notFound } from '../../../errors';

/**
 * Faults of the emulated Cluster API machines, kept in the simulator's tables beside its other
 * faults so that every simulator on the database honours them, for one cluster (the Cluster's
 * name, which is also its workload API server's) or for all:
 * - `stuck_machine`: machines never leave Provisioning (the infrastructure never reports ready);
 * - `failed_bootstrap`: a machine's bootstrap fails, the Machine goes to phase Failed with
 *   failureReason/failureMessage, as CAPI reports a bootstrap provider's failure;
 * - `slow_rollout`: each machine transition takes `factor` times the step delay.
 */
export const MACHINE_FAULT_KINDS = ['stuck_machine', 'failed_bootstrap', 'slow_rollout'] as const;
export type MachineFaultKind = (typeof MACHINE_FAULT_KINDS)[number];

export interface MachineFaultSpec {
  kind: MachineFaultKind;
  cluster?: string;
  /** For `slow_rollout`: how many step delays each transition takes (default 5). */
  factor?: number;
}

export interface MachineFault {
  id: string;
  kind: MachineFaultKind;
  cluster: string | null;
  factor: number | null;
  createdAt: string;
}

/** What the controllers need to know about one cluster at the moment they look. */
export interface ActiveMachineFaults {
  stuck: boolean;
  failedBootstrap: boolean;
  /** Multiplier of the step delay: 1 without a slow rollout. */
  slowFactor: number;
}

export const NO_MACHINE_FAULTS: ActiveMachineFaults = { stuck: false, failedBootstrap: false, slowFactor: 1 };

/** The controllers' view of the faults: one read per reconcile pass of a cluster. */
export interface MachineFaultSource {
  activeFor(cluster: string): Promise<ActiveMachineFaults>;
}

interface MachineFaultRow {
  id: string;
  kind: MachineFaultKind;
  cluster: string | null;
  factor: number | null;
  created_at: Date;
}

const SCHEMA = /* sql */ `
CREATE SCHEMA IF NOT EXISTS simulator;
CREATE TABLE IF NOT EXISTS simulator.machine_faults (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  cluster text,
  factor integer,
  created_at timestamptz NOT NULL DEFAULT now()
);
`;

export class MachineFaults implements MachineFaultSource {
  constructor(private readonly db: SimulatorDatabase) {}

  async migrate(): Promise<void> {
    await this.db.transaction(async (sql) => {
      await sql.query(`SELECT pg_advisory_xact_lock(hashtext('capstan-simulator-machine-faults'))`);
      await sql.query(SCHEMA);
    });
  }

  async add(spec: MachineFaultSpec): Promise<MachineFault> {
    const factor = spec.kind === 'slow_rollout' ? (spec.factor ?? 5) : null;
    const [row] = await this.db.query<MachineFaultRow>(`INSERT INTO simulator.machine_faults (kind, cluster, factor) VALUES ($1, $2, $3) RETURNING *`, [
      spec.kind,
      spec.cluster ?? null,
      factor,
    ]);
    return toFault(row!);
  }

  async list(): Promise<MachineFault[]> {
    return (await this.db.query<MachineFaultRow>(`SELECT * FROM simulator.machine_faults ORDER BY id`)).map(toFault);
  }

  async remove(id: string): Promise<void> {
    const deleted = /^\d{1,18}$/.test(id) ? await this.db.query(`DELETE FROM simulator.machine_faults WHERE id = $1 RETURNING id`, [id]) : [];
    if (deleted.length === 0) throw notFound(`machine fault ${id} does not exist`);
  }

  async clear(): Promise<void> {
    await this.db.query(`DELETE FROM simulator.machine_faults`);
  }

  async activeFor(cluster: string): Promise<ActiveMachineFaults> {
    const rows = await this.db.query<MachineFaultRow>(`SELECT * FROM simulator.machine_faults WHERE cluster IS NULL OR cluster = $1`, [cluster]);
    return combine(rows);
  }
}

export function combine(faults: Pick<MachineFault, 'kind' | 'factor'>[]): ActiveMachineFaults {
  if (faults.length === 0) return NO_MACHINE_FAULTS;
  return {
    stuck: faults.some((f) => f.kind === 'stuck_machine'),
    failedBootstrap: faults.some((f) => f.kind === 'failed_bootstrap'),
    slowFactor: Math.max(1, ...faults.filter((f) => f.kind === 'slow_rollout').map((f) => f.factor ?? 1)),
  };
}

function toFault(row: MachineFaultRow): MachineFault {
  return { id: String(row.id), kind: row.kind, cluster: row.cluster, factor: row.factor, createdAt: row.created_at.toISOString() };
}
