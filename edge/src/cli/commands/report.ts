// `gridwatch report [--lang zh-CN|en]`: the commissioning report per device as Markdown and JSON.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Profile } from '@gridwatch/firmware-profiles';
import { bindDevices } from '../../config/index.ts';
import { action, withCommon, type Common } from '../command.ts';
import { openConfig } from '../config-file.ts';
import { describe } from '../devices.ts';
import { emit, EXIT } from '../output.ts';
import { loadRecords } from '../records.ts';
import { reportDevice, reportMarkdown, type Report } from '../render/report.ts';
import { langOption, type LangFlag } from './lang.ts';

export function register(program: Command): void {
  const command = program
    .command('report')
    .description('commissioning report per device (rules in force with their conditions, read-back values, round trip, pass/fail) as Markdown and JSON')
    .option('--out <prefix>', 'files to write: <prefix>.md and <prefix>.json', 'commissioning-report');
  withCommon(langOption(command)).action(
    action<Common & LangFlag & { out: string }>((o) => {
      const cf = openConfig(o.config);
      const records = loadRecords(cf);
      const bound = bindDevices(cf.config, cf.profiles);
      const devices = cf.config.devices.map((d) => {
        const b = bound.get(d.id)!;
        return reportDevice({ deviceId: d.id, profile: b.profile, rules: b.rules ?? b.profile.rules, connection: describe(d), addressId: d.addressId, record: records[d.id] }, o.lang);
      });
      const report: Report = { gatewayId: cf.config.gateway.id, site: cf.config.gateway.site, lang: o.lang, generatedAt: new Date().toISOString(), devices };
      const profiles = new Map<string, Profile>([...cf.profiles.profiles].map(([id, l]) => [id, l.profile]));
      const md = reportMarkdown(report, profiles);
      writeFileSync(`${o.out}.md`, md);
      writeFileSync(`${o.out}.json`, `${JSON.stringify(report, null, 2)}\n`);
      emit(o, { ...report, files: [`${o.out}.md`, `${o.out}.json`] }, () => `${md}\nwritten: ${o.out}.md, ${o.out}.json`);
      if (devices.some((d) => d.result !== 'pass')) process.exitCode = EXIT.failed;
    }),
  );
}
