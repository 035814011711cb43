// The commissioning report: per device its connection, the rules in force with their actual
// conditions, the read-back values with units, the round trip and where it routed, pass/fail.
// JSON for machines, Markdown for the file handed over, in zh-CN or en.
import type { Profile, Rule } from '@gridwatch/firmware-profiles';
import type { DeviceRecord } from '../records.ts';
import { REPORT_WORDS, withUnit, type Lang } from './i18n.ts';
import { describeRule } from './rules.ts';

export interface ReportDevice {
  deviceId: string;
  profile: string;
  connection: string;
  addressId: string | null;
  readBack: DeviceRecord['readBack'] | null;
  /** Each rule's condition in words, in the report's language. */
  thresholds: string[];
  roundTripMs: number | null;
  routedTo: { community: string | null; grid: string | null; unit: { id: string; name: string; tier: string } | null } | null;
  result: 'pass' | 'fail' | 'not tested';
}

export interface Report {
  gatewayId: string;
  site: string;
  lang: Lang;
  generatedAt: string;
  devices: ReportDevice[];
}

export interface ReportInput {
  deviceId: string;
  profile: Profile;
  rules: readonly Rule[];
  connection: string;
  addressId: string | undefined;
  record: DeviceRecord | undefined;
}

export function reportDevice({ deviceId, profile, rules, connection, addressId, record }: ReportInput, lang: Lang): ReportDevice {
  const test = record?.test;
  return {
    deviceId,
    profile: profile.id,
    connection,
    addressId: addressId ?? null,
    readBack: record?.readBack ?? null,
    thresholds: rules.map((rule) => describeRule(profile, rule, lang)),
    roundTripMs: test?.roundTripMs ?? null,
    routedTo: test ? { community: test.community, grid: test.grid, unit: test.unit } : null,
    result: test?.passed === true ? 'pass' : test ? 'fail' : 'not tested',
  };
}

/** Read-back values with their units: `gas_concentration=12 %LEL, alarm=false`. */
export function valuesWithUnits(values: Record<string, unknown>, profile: Profile | undefined, lang: Lang): string {
  return Object.entries(values)
    .map(([point, value]) => `${point}=${withUnit(value, profile?.points.find((p) => p.name === point)?.unit, lang)}`)
    .join(', ');
}

export function reportMarkdown(report: Report, profiles: ReadonlyMap<string, Profile>): string {
  const w = REPORT_WORDS[report.lang];
  const cell = (d: ReportDevice): string[] => [
    d.deviceId,
    d.profile,
    d.connection,
    d.addressId ?? w.none,
    d.roundTripMs === null ? w.none : `${d.roundTripMs} ms`,
    d.routedTo ? `${d.routedTo.community ?? w.none} / ${d.routedTo.unit?.id ?? w.none}` : w.none,
    w.result[d.result],
  ];
  return [
    `# ${w.title(report.gatewayId, report.site)}`,
    '',
    w.generated(report.generatedAt),
    '',
    `| ${w.columns.join(' | ')} |`,
    `|${w.columns.map(() => '---').join('|')}|`,
    ...report.devices.map((d) => `| ${cell(d).join(' | ')} |`),
    '',
    ...report.devices.flatMap((d) => [
      `## ${d.deviceId} — ${w.result[d.result]}`,
      '',
      `- ${w.rules}:`,
      ...(d.thresholds.length ? d.thresholds.map((t) => `  - ${t}`) : [`  - ${w.none}`]),
      `- ${w.readBack}: ${d.readBack ? valuesWithUnits(d.readBack.values, profiles.get(d.profile), report.lang) : w.none}`,
      '',
    ]),
  ].join('\n');
}
