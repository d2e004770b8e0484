import { readFileSync } from 'node:fs';
import { type CapstanConfig, ConfigError } from './config';

/**
 * Files named by settings that a process reads while it boots, checked before anything starts:
 * a wrong path then stops the process with one line naming the setting, instead of a stack trace
 * from deep inside module initialisation. A Docker bind mount of a host path that does not exist
 * makes a directory in its place, hence the EISDIR case. loadConfig stays free of I/O.
 */
export function preflight(config: CapstanConfig): ConfigError | undefined {
  const kubeconfig = config.rke2.managementKubeconfigPath;
  if (kubeconfig === undefined) return undefined;
  try {
    readFileSync(kubeconfig);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    const why = code === 'EISDIR' ? 'is a directory, not a kubeconfig file' : code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`;
    return new ConfigError('RKE2_MANAGEMENT_KUBECONFIG', `${why}: ${kubeconfig}`);
  }
  return undefined;
}
