import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './errors';

export interface Context {
  url: string;
  token: string;
}

export interface CliConfig {
  current?: string;
  contexts: Record<string, Context>;
}

/** `$XDG_CONFIG_HOME/capstan/config.json`, by default `~/.config/capstan/config.json` (XDG Base Directory). */
export function configPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'capstan', 'config.json');
}

export function readConfig(path: string): CliConfig {
  if (!existsSync(path)) return { contexts: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<CliConfig>;
    return { current: parsed.current, contexts: parsed.contexts ?? {} };
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, EXIT.usage);
  }
}

/** The file holds API tokens: only its owner may read it. */
export function writeConfig(config: CliConfig, path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * Where to send requests and with which token: `CAPSTAN_URL` and `CAPSTAN_TOKEN` win over the
 * config file (so CI needs no file), then the context named by `--context`, then the current one.
 */
export function resolveContext(contextName: string | undefined, env: NodeJS.ProcessEnv): Context {
  const config = readConfig(configPath(env));
  const name = contextName ?? config.current;
  if (contextName && !config.contexts[contextName]) throw new CliError(`no context named ${contextName} (see: capstan contexts list)`, EXIT.usage);
  const fromFile = name ? config.contexts[name] : undefined;
  const url = env.CAPSTAN_URL || fromFile?.url;
  const token = env.CAPSTAN_TOKEN || fromFile?.token;
  if (!url || !token) {
    throw new CliError('not logged in: run `capstan login --url <api-url> --token <token>` or set CAPSTAN_URL and CAPSTAN_TOKEN', EXIT.auth);
  }
  return { url: url.replace(/\/+$/, ''), token };
}
