import type { CapstanClient, components } from '@capstan/sdk';
import ora from 'ora';
import { CliError, EXIT, problemError } from './errors';

type Operation = components['schemas']['Operation'];

const FINISHED_STEP = new Set(['succeeded', 'failed', 'skipped', 'compensated']);
const FINISHED_OPERATION = new Set(['succeeded', 'failed', 'cancelled', 'needs_attention']);
const SYMBOL: Record<string, string> = { succeeded: '✔', failed: '✖', skipped: '-', compensated: '↺' };

export interface WatchOptions {
  /** How often to ask the API, in ms. */
  intervalMs: number;
  /** Give up (exit 6) after this many ms; the operation itself goes on. */
  timeoutMs: number;
  /** Progress goes to stderr so that `-o json` on stdout stays parseable. */
  stream?: NodeJS.WritableStream;
  /** Where Ctrl-C arrives (the process; a test passes its own emitter). */
  signals?: Pick<NodeJS.Process, 'once' | 'removeListener'>;
}

/** Answers worth another poll rather than giving up: the API busy, restarting or behind a failing proxy. */
const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

function timedOut(operationId: string, timeoutMs: number, status: string): CliError {
  return new CliError(
    `gave up waiting after ${seconds(timeoutMs)}: operation ${operationId} is still ${status} (see: capstan operations watch ${operationId})`,
    EXIT.timeout,
  );
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, ...) is in its cause. */
function networkCode(error: Error): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}

/** Resolves after `ms`, or rejects at once when `interrupted` is. */
function pause(ms: number, interrupted: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      interrupted.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(interrupted.reason);
    };
    if (interrupted.aborted) onAbort();
    else interrupted.addEventListener('abort', onAbort, { once: true });
  });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * Follows an operation until it finishes: each step is printed once as it ends (with how long it
 * took), a spinner shows the step running now, the percent and the time elapsed. On a terminal the
 * spinner redraws in place (ora); elsewhere (CI logs) each step still gets one line.
 */
export async function watchOperation(client: CapstanClient, operationId: string, options: WatchOptions): Promise<Operation> {
  const started = Date.now();
  const spinner = ora({ stream: options.stream ?? process.stderr, text: `operation ${operationId}` });
  const printed = new Set<string>();
  // The step the live line shows; a new one restarts the spinner (on a non-terminal, one line per step).
  let shown: string | undefined;
  // Ctrl-C stops the waiting, not the operation: say so, and how to pick it up again (exit 130).
  const interrupt = new AbortController();
  const onInterrupt = () =>
    interrupt.abort(
      new CliError(
        `stopped waiting; operation ${operationId} goes on (capstan operations watch ${operationId} follows it, capstan operations cancel ${operationId} stops it)`,
        EXIT.interrupted,
      ),
    );
  const signals = options.signals ?? process;
  signals.once('SIGINT', onInterrupt);
  try {
    for (;;) {
      if (interrupt.signal.aborted) throw interrupt.signal.reason;
      const answer = await client
        .GET('/v1/operations/{operation_id}', { params: { path: { operation_id: operationId } } })
        .catch((failure: unknown) => (failure instanceof Error ? failure : new Error(String(failure))));
      // The operation runs on whatever happens to this poll: an API restarting, a load balancer's
      // 502/503, a rate limit or a dropped connection are waited out until --timeout.
      if (answer instanceof Error || TRANSIENT_STATUS.has(answer.response.status)) {
        if (Date.now() - started > options.timeoutMs) throw timedOut(operationId, options.timeoutMs, 'unknown (the API is not answering)');
        const trouble = `the API is not answering (${answer instanceof Error ? networkCode(answer) : `HTTP ${answer.response.status}`})`;
        const text = `operation ${operationId}: ${trouble}, still waiting · ${seconds(Date.now() - started)} elapsed`;
        // As for steps: a new line only when the trouble changes (off a terminal, one line each).
        if (trouble !== shown) {
          shown = trouble;
          spinner.start(text);
        } else spinner.text = text;
        await pause(options.intervalMs, interrupt.signal);
        continue;
      }
      const { data, error, response } = answer;
      if (!data) throw problemError(response.status, error);
      const total = data.steps.length;
      for (const step of data.steps) {
        if (!FINISHED_STEP.has(step.status) || printed.has(step.name)) continue;
        printed.add(step.name);
        const took = step.started_at && step.finished_at ? ` (${seconds(Date.parse(step.finished_at) - Date.parse(step.started_at))})` : '';
        spinner.stopAndPersist({ symbol: SYMBOL[step.status] ?? '?', text: `${step.name} ${step.status}${took}` });
        shown = undefined;
      }
      if (FINISHED_OPERATION.has(data.status)) {
        spinner.stop();
        return data;
      }
      const current = data.steps.find((s) => s.status === 'running') ?? data.steps.find((s) => s.status === 'pending');
      const done = data.steps.filter((s) => FINISHED_STEP.has(s.status)).length;
      const text = `[${Math.min(done + 1, total)}/${total}] ${current?.name ?? data.status} ${data.progress}% · ${seconds(Date.now() - started)} elapsed`;
      const name = current?.name ?? data.status;
      if (name !== shown) {
        shown = name;
        spinner.start(text);
      } else {
        spinner.text = text;
      }
      if (Date.now() - started > options.timeoutMs) throw timedOut(operationId, options.timeoutMs, data.status);
      await pause(options.intervalMs, interrupt.signal);
    }
  } finally {
    signals.removeListener('SIGINT', onInterrupt);
    if (spinner.isSpinning) spinner.stop();
  }
}

/** Exit 5 with the operation's error unless it succeeded. */
export function assertSucceeded(operation: Operation): void {
  if (operation.status === 'succeeded') return;
  const reason = operation.error ? `${operation.error.code}: ${operation.error.message}` : operation.status;
  throw new CliError(`operation ${operation.id} (${operation.type}) ${operation.status}: ${reason}`, EXIT.operationFailed);
}
