import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countCalls } from './call-counter';
import { startCpuProfile } from './cpu-profile';

/**
 * Loaded into a worker process with `NODE_OPTIONS=--require .../cpu-profile-preload.js` when
 * BENCH_CPU_PROF names a directory: the first SIGWINCH starts a CPU profile and zeroes the
 * round-trip counts (support/call-counter.ts), the second writes `<dir>/worker-<pid>.calls.json`
 * and `<dir>/worker-<pid>.cpuprofile` (last), so both cover the measured window only. SIGWINCH
 * because a process without this handler ignores it, and Nest's shutdown hooks do not listen to
 * it (they do to SIGUSR2, and would close the worker).
 */
const dir = process.env.BENCH_CPU_PROF;
if (dir) {
  const calls = countCalls();
  let running: ReturnType<typeof startCpuProfile> | undefined;
  process.on('SIGWINCH', () => {
    if (!running) {
      calls.reset();
      running = startCpuProfile();
      return;
    }
    writeFileSync(join(dir, `worker-${process.pid}.calls.json`), JSON.stringify(calls.snapshot()));
    void running.stop(join(dir, `worker-${process.pid}.cpuprofile`));
  });
}
