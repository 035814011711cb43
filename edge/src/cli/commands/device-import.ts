// `gridwatch device import <file.csv>`: add or replace devices; the whole file is validated before
// anything is written, and an error names the file line and the column.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { action, asCliError, withCommon, type Common } from '../command.ts';
import { openConfig, saveDevices } from '../config-file.ts';
import { csvLine, parseCsv } from '../csv.ts';
import { buildDevice, columnName, csvColumns } from '../devices.ts';
import { CliError, emit, EXIT } from '../output.ts';

const camel = (column: string): string => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export function register(device: Command): void {
  withCommon(device.command('import').description(`add or replace devices from a CSV: ${csvColumns().join(',')}`).argument('<file.csv>')).action(
    action<Common>((o, file) => {
      const cf = openConfig(o.config);
      let text: string;
      try {
        text = readFileSync(file as string, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read ${file as string} (${(err as Error).message})`, EXIT.usage, 'check the CSV path');
      }
      const devices = parseCsv(text).map((row, i) => {
        const flags = Object.fromEntries(Object.entries(row).map(([column, value]) => [camel(column), value === '' ? undefined : value]));
        try {
          return buildDevice(cf, flags, undefined, columnName);
        } catch (err) {
          const known = asCliError(err);
          if (known instanceof CliError) throw new CliError(`${file as string} line ${csvLine(row) ?? i + 2}: ${known.message}`, known.exitCode, known.next);
          throw err;
        }
      });
      const ids = new Set(devices.map((d) => d.id));
      saveDevices(cf, (list) => [...list.filter((d) => !ids.has(d.id)), ...devices]);
      emit(o, { ok: true, imported: devices.map((d) => d.id) }, () => `imported ${devices.length} devices: ${devices.map((d) => d.id).join(', ')}`);
    }),
  );
}
