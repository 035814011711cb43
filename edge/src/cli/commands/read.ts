// `gridwatch read <device>`: every point once through the driver code, decoded by the profile,
// shown with units.
import type { Command } from 'commander';
import { bindDevices } from '../../config/index.ts';
import { getTransport } from '../../drivers/registry.ts';
import { decode } from '../../profiles/index.ts';
import { action, withCommon, type Common } from '../command.ts';
import { openConfig } from '../config-file.ts';
import { deviceOf } from '../devices.ts';
import { CliError, emit, EXIT } from '../output.ts';
import { saveRecord } from '../records.ts';
import { withUnit } from '../render/i18n.ts';
import { table } from '../render/table.ts';
import { langOption, type LangFlag } from './lang.ts';

export function register(program: Command): void {
  withCommon(langOption(program.command('read').description("read a device's live values through the driver (stop the agent first on a serial line)").argument('<device>'))).action(
    action<Common & LangFlag>(async (o, id) => {
      const cf = openConfig(o.config);
      const d = deviceOf(cf, id as string);
      const bound = bindDevices(cf.config, cf.profiles).get(d.id)!;
      const readOnce = getTransport(bound.profile.transport)?.cli.readOnce;
      if (!readOnce) throw new CliError(`${d.id} reports on its own (${bound.profile.transport}); its live values come through the agent`, EXIT.usage, 'see its latest values in the console or GET /api/v1/readings');
      const decoded = decode(bound.profile, d.id, await readOnce(bound, cf.config), Date.now());
      if (!decoded.ok) throw new CliError(`device ${d.id}: ${decoded.reason}`, EXIT.failed, 'check the profile matches the device model');
      const values = Object.fromEntries(decoded.readings.map((r) => [r.point, r.value]));
      const units = Object.fromEntries(bound.profile.points.filter((p) => p.name in values).map((p) => [p.name, p.unit]));
      saveRecord(cf, { deviceId: d.id, readBack: { at: Date.now(), values } });
      emit(o, { device: d.id, values, units }, () => table(['point', 'value'], Object.entries(values).map(([k, v]) => [k, withUnit(v, units[k], o.lang)])));
    }),
  );
}
