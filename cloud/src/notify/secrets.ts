// Channel credentials come from a file or an environment variable, never from argv or the config
// file itself (argv is visible in `ps`, config files get copied around).
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';

export const SecretRef = Type.Union(
  [
    Type.Object({ file: Type.String({ minLength: 1, description: 'Path of a file holding the secret (trailing newline ignored)' }) }, { additionalProperties: false }),
    Type.Object({ env: Type.String({ minLength: 1, description: 'Name of an environment variable holding the secret' }) }, { additionalProperties: false }),
  ],
  { description: 'Where a credential is read from: a file or an environment variable' },
);
export type SecretRef = Static<typeof SecretRef>;

export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  if ('file' in ref) {
    const value = readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
    if (!value) throw new Error(`secret file ${ref.file} is empty`);
    return value;
  }
  const value = env[ref.env];
  if (!value) throw new Error(`environment variable ${ref.env} is not set`);
  return value;
}
