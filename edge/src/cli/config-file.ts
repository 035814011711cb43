// Edits the device list of an edge config file: the YAML document is changed in place (comments
// and the other keys stay as the installer wrote them), the result is validated exactly as the
// agent validates it at start-up (schema, then devices bound to profiles and buses), and only then
// written, via a temporary file and a rename, with the previous version kept as `<file>.bak`.
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { loadProfiles, ProfileError, type ProfileCollection } from '@gridwatch/firmware-profiles';
import { bindDevices, ConfigError, resolveConfig, type DeviceConfig, type EdgeConfig } from '../config/index.ts';
import { CliError, EXIT } from './output.ts';

export interface ConfigFile {
  file: string;
  doc: Document;
  config: EdgeConfig;
  profiles: ProfileCollection;
}

function invalid(file: string, err: unknown): CliError {
  if (err instanceof ConfigError || err instanceof ProfileError) {
    return new CliError(err.message, EXIT.usage, `fix the value at the path named above, then run the command again (check with: gridwatch check -c ${file})`);
  }
  return new CliError(err instanceof Error ? err.message : String(err), EXIT.usage, `check ${file}`);
}

function validate(file: string, raw: unknown): { config: EdgeConfig; profiles: ProfileCollection } {
  try {
    const config = resolveConfig(raw, file, dirname(resolve(file)));
    const profiles = loadProfiles(config.profilesDir);
    bindDevices(config, profiles);
    return { config, profiles };
  } catch (err) {
    throw invalid(file, err);
  }
}

export function openConfig(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file} (${(err as Error).message})`, EXIT.usage, 'pass the edge config with --config <file> (default /etc/gridwatch/edge.yaml)');
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors[0]) throw new CliError(`${file}: not valid YAML (${doc.errors[0].message})`, EXIT.usage, 'fix the YAML syntax');
  return { file, doc, ...validate(file, doc.toJS()) };
}

/** Applies `change` to the devices list, validates the whole file, writes it. */
export function saveDevices(cf: ConfigFile, change: (devices: DeviceConfig[]) => DeviceConfig[]): ConfigFile {
  const raw = cf.doc.toJS() as { devices?: DeviceConfig[] };
  const next = change(structuredClone(raw.devices ?? []));
  if (!isMap(cf.doc.contents)) throw new CliError(`${cf.file}: expected a mapping at the top`, EXIT.usage, 'fix the file');
  cf.doc.set('devices', cf.doc.createNode(next));
  const checked = validate(cf.file, cf.doc.toJS());
  const text = extname(cf.file) === '.json' ? `${JSON.stringify(cf.doc.toJS(), null, 2)}\n` : cf.doc.toString();
  copyFileSync(cf.file, `${cf.file}.bak`);
  writeFileSync(`${cf.file}.tmp`, text);
  renameSync(`${cf.file}.tmp`, cf.file);
  return { ...cf, ...checked };
}

export function hasDevices(doc: Document): boolean {
  return isSeq(doc.get('devices'));
}
