// Secrets reach the cloud from a file (`--admin-token-file`, GRIDWATCH_ADMIN_TOKEN_FILE: Docker and
// Kubernetes secrets mount files) or the environment (GRIDWATCH_ADMIN_TOKEN). A secret on argv is
// visible to every local user in `ps`, so it still works but prints a warning.
import { readFileSync } from 'node:fs';
import { SECRET_KEYS, envName, ConfigError, type CloudConfig } from '../config.ts';

export type SecretKey = (typeof SECRET_KEYS)[number];

/** `--admin-token` → `--admin-token-file`. */
export function fileFlagOf(flag: string): string {
  return flag.replace(/^(--[a-z-]+)/, '$1-file');
}

export function fileEnvOf(key: SecretKey): string {
  return `${envName(key)}_FILE`;
}

/** Secrets read from `<key>File` flags or GRIDWATCH_<KEY>_FILE (flags win); trailing newline dropped. */
export function secretsFromFiles(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Partial<Pick<CloudConfig, SecretKey>> {
  const out: Partial<Record<SecretKey, string>> = {};
  for (const key of SECRET_KEYS) {
    const file = flags[`${key}File`] ?? env[fileEnvOf(key)];
    if (typeof file !== 'string' || file === '') continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${key}: cannot read ${file} (${(err as Error).message})`);
    }
    out[key] = text.replace(/\r?\n$/, '');
  }
  return out;
}

/** One warning per secret given on the command line (`source` is commander's value source). */
export function argvSecretWarnings(sourceOf: (key: SecretKey) => string | undefined, flagOf: (key: SecretKey) => string): string[] {
  return SECRET_KEYS.filter((key) => sourceOf(key) === 'cli').map(
    (key) => `warning: ${flagOf(key)} on the command line is visible to other users (ps, shell history); use ${fileFlagOf(flagOf(key))} <file> or ${envName(key)}`,
  );
}
