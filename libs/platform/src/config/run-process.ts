import { ConfigError, loadConfig, type CapstanConfig } from './config';
import { preflight } from './preflight';

/**
 * The entry point of every Capstan process: load and validate the config once, start, and turn
 * a bad setting into one line on stderr and exit code 1, not a stack trace.
 */
export function runProcess(start: (config: CapstanConfig) => Promise<unknown>, env: NodeJS.ProcessEnv = process.env): void {
  let config: CapstanConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const unusable = preflight(config);
  if (unusable) {
    process.stderr.write(`${unusable.message}\n`);
    process.exit(1);
  }
  start(config).catch((error: unknown) => {
    process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
