/**
 * How an operation step's status may move. The engine writes every step status change guarded by
 * the statuses this table allows as its source, so a write that lost a race changes nothing.
 *
 * - `running -> running`: a run resumed after a yielded wait, or rerun after its worker died.
 * - `failed -> running`: a retry (retryable error inside the retry budget, or a staff retry).
 * - `succeeded -> compensated`: a cancel undid, at the provider, what the step had done.
 * - `skipped`: a cancel came before the step ever finished; nothing of it remains.
 */
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'compensated';

export const STEP_TRANSITIONS: Readonly<Record<StepStatus, readonly StepStatus[]>> = Object.freeze({
  pending: ['running', 'skipped'],
  running: ['running', 'succeeded', 'failed', 'skipped'],
  failed: ['running', 'skipped'],
  succeeded: ['compensated'],
  compensated: [],
  skipped: [],
});

export function canTransitionStep(from: StepStatus, to: StepStatus): boolean {
  return STEP_TRANSITIONS[from].includes(to);
}

/** The statuses a step may be in for a write that moves it to `to` (the guard of that write). */
export function stepStatusesBefore(to: StepStatus): StepStatus[] {
  return (Object.keys(STEP_TRANSITIONS) as StepStatus[]).filter((from) => canTransitionStep(from, to));
}
