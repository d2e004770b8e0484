/**
 * Cluster API v1beta1 conditions (`status.conditions`): type, status, severity (for False),
 * reason, message and lastTransitionTime, which only moves when the status does, as upstream's
 * `conditions.Set` keeps it.
 */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  severity?: 'Error' | 'Warning' | 'Info';
  reason?: string;
  message?: string;
  lastTransitionTime: string;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

export function trueCondition(type: string): ConditionInput {
  return { type, status: 'True' };
}

export function falseCondition(type: string, reason: string, severity: Condition['severity'], message?: string): ConditionInput {
  return { type, status: 'False', severity, reason, ...(message ? { message } : {}) };
}

/**
 * The conditions after setting `wanted`, in upstream's order (Ready first, then by type); any
 * condition not named keeps its place. A condition whose status is unchanged keeps its
 * lastTransitionTime, so an idempotent reconcile writes nothing new.
 */
export function setConditions(existing: unknown, wanted: ConditionInput[], now: Date): Condition[] {
  const current = Array.isArray(existing) ? (existing as Condition[]) : [];
  const byType = new Map(current.map((c) => [c.type, c]));
  for (const condition of wanted) {
    const previous = byType.get(condition.type);
    const lastTransitionTime = previous && previous.status === condition.status ? previous.lastTransitionTime : now.toISOString();
    const next: Condition = { type: condition.type, status: condition.status, lastTransitionTime };
    if (condition.severity && condition.status === 'False') next.severity = condition.severity;
    if (condition.reason) next.reason = condition.reason;
    if (condition.message) next.message = condition.message;
    byType.set(condition.type, next);
  }
  return [...byType.values()].sort((a, b) => (a.type === 'Ready' ? -1 : b.type === 'Ready' ? 1 : a.type.localeCompare(b.type)));
}

export function conditionStatus(conditions: unknown, type: string): Condition['status'] | undefined {
  if (!Array.isArray(conditions)) return undefined;
  return (conditions as Condition[]).find((c) => c.type === type)?.status;
}

/** `Ready` as the summary of the others: False with the first failing one's reason, as upstream's `conditions.SetSummary`. */
export function summary(conditions: ConditionInput[]): ConditionInput {
  const failing = conditions.find((c) => c.status !== 'True');
  if (!failing) return trueCondition('Ready');
  return { type: 'Ready', status: failing.status, severity: failing.severity, reason: failing.reason, message: failing.message };
}
