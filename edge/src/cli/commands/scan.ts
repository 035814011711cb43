// `gridwatch scan --bus <id>`: probes a bus for devices through its transport's discovery (any
// answer, even an error answer, means one is there) and compares with the configured devices.
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { transportOfBusKind } from '../../drivers/registry.ts';
import { listTransports } from '../../drivers/registry.ts';
import { action, integerOption, withCommon, type Common } from '../command.ts';
import { openConfig, type ConfigFile } from '../config-file.ts';
import { CliError, emit, EXIT } from '../output.ts';
import { table } from '../render/table.ts';

type ScanFlags = Common & { bus: string; from?: string; to?: string; timeoutMs: string };

function scannable(cf: ConfigFile, busId: string) {
  const bus = cf.config.buses.find((b) => b.id === busId);
  const discovery = bus ? transportOfBusKind(bus.kind)?.discovery : undefined;
  if (!bus || !discovery) {
    const kinds = listTransports().filter((t) => t.discovery).flatMap((t) => Object.keys(t.buses));
    const ids = cf.config.buses.filter((b) => kinds.includes(b.kind)).map((b) => b.id);
    throw new CliError(`--bus: ${busId} is not a bus that can be scanned in ${cf.file}`, EXIT.usage, `use one of: ${ids.join(', ') || 'none (declare a bus under buses)'}`);
  }
  return { bus, discovery };
}

export function register(program: Command): void {
  withCommon(
    program
      .command('scan')
      .description('probe a bus for devices (Modbus: slave ids; any answer, even an exception, means a slave is there)')
      .requiredOption('--bus <id>', 'bus id from the config file')
      .option('--from <n>', 'first address (default: the lowest, e.g. unit id 1)')
      .option('--to <n>', 'last address (default: the highest, e.g. unit id 247)')
      .option('--timeout-ms <ms>', 'answer timeout per address', '100'),
  ).action(
    action<ScanFlags>(async (o) => {
      const cf = openConfig(o.config);
      const { bus, discovery } = scannable(cf, o.bus);
      const range = { min: discovery.address.min, max: discovery.address.max };
      const from = integerOption('--from', o.from, range) ?? range.min;
      const to = integerOption('--to', o.to, range) ?? range.max;
      if (from > to) throw new CliError(`--from ${from} is above --to ${to}`, EXIT.usage, `pass --from/--to within ${range.min}–${range.max}, --from first`);
      const timeoutMs = integerOption('--timeout-ms', o.timeoutMs, { min: 10, max: 60_000 }) ?? 100;
      const bar = !o.json && process.stderr.isTTY ? new SingleBar({ format: 'scanning {bar} {value}/{total} | found {found}', stream: process.stderr }, Presets.shades_classic) : null;
      bar?.start(to - from + 1, 0, { found: 0 });
      let found: Array<{ address: number; answer: string }>;
      try {
        found = await discovery.scan(bus, { from, to, timeoutMs }, (n) => bar?.increment(1, { found: n }));
      } finally {
        bar?.stop();
      }
      const configured = cf.config.devices.flatMap((d) => {
        const address = discovery.addressOf(d, bus.id);
        return address === undefined ? [] : [{ address, device: d.id }];
      });
      const result = found.map((f) => ({ unitId: f.address, answer: f.answer, device: configured.find((c) => c.address === f.address)?.device ?? null }));
      const missing = configured.filter((c) => c.address >= from && c.address <= to && !found.some((f) => f.address === c.address)).map((c) => ({ unitId: c.address, device: c.device }));
      const name = discovery.address.name;
      emit(o, { bus: o.bus, from, to, found: result, missing }, () =>
        [
          table([name, 'configured device', 'answer'], result.map((r) => [r.unitId, r.device ?? '(not configured)', r.answer])),
          missing.length ? `configured but silent: ${missing.map((m) => `${m.device} (${name} ${m.unitId})`).join(', ')}` : `all ${configured.length} configured devices answered`,
        ].join('\n'),
      );
      if (missing.length) process.exitCode = EXIT.failed;
    }),
  );
}
