// `gridwatch device show <id> [--lang zh-CN|en]`: the device, its connection, its rules in force
// with their conditions, and what commissioning found.
import type { Command } from 'commander';
import { bindDevices } from '../../config/index.ts';
import { action, withCommon, type Common } from '../command.ts';
import { openConfig } from '../config-file.ts';
import { describe, deviceOf } from '../devices.ts';
import { emit } from '../output.ts';
import { loadRecords } from '../records.ts';
import { langOption, type LangFlag } from './lang.ts';
import { describeRule } from '../render/rules.ts';

export function register(device: Command): void {
  withCommon(langOption(device.command('show').description('one device, its profile and the conditions of its rules').argument('<id>'))).action(
    action<Common & LangFlag>((o, id) => {
      const cf = openConfig(o.config);
      const d = deviceOf(cf, id as string);
      const bound = bindDevices(cf.config, cf.profiles).get(d.id)!;
      const lang = o.lang;
      const thresholds = (bound.rules ?? bound.profile.rules).map((rule) => describeRule(bound.profile, rule, lang));
      const info = { device: d, thresholds, commissioning: loadRecords(cf)[d.id] ?? null };
      emit(o, info, () => `${d.id}\n  profile:    ${d.profile}\n  connection: ${describe(d)}\n  address:    ${d.addressId ?? '—'}\n  rules:\n${thresholds.map((t) => `    - ${t}`).join('\n')}`);
    }),
  );
}
