import { Session } from 'node:inspector';
import { renameSync, writeFileSync } from 'node:fs';

/**
 * A V8 CPU profile of this process over a window of a run (what `--cpu-prof` gives for a whole
 * process), written as a `.cpuprofile` that Chrome DevTools or speedscope open.
 */
export function startCpuProfile(): { stop(file: string): Promise<void> } {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
  const started = post('Profiler.enable').then(() => post('Profiler.start'));
  return {
    async stop(file) {
      await started;
      const { profile } = (await post('Profiler.stop')) as { profile: object };
      // Renamed into place, so whoever waits for the file never reads half of it.
      writeFileSync(`${file}.part`, JSON.stringify(profile));
      renameSync(`${file}.part`, file);
      session.disconnect();
    },
  };
}
