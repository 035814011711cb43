// Rules are data: each profile carries default rules; the installation's config may override them
// for every device of a profile (site level, `rules:` at the top) or for one device (`rules:` in
// the device). An override names the alarmType it changes; `disabled: true` removes the rule; an
// override with a new alarmType and a `kind` adds a rule. Every merged rule is validated against
// the rule schema and the profile's points, and a mistake names the config file and JSON path.
import type { TSchema } from '@sinclair/typebox';
import { ProfileError, RuleSchemas, checkRule, firstSchemaError, type Profile, type Rule } from '@gridwatch/firmware-profiles';

export interface RuleOverrideAt {
  /** The override object as written (alarmType, optional kind, disabled, any rule field). */
  value: Record<string, unknown>;
  /** JSON path of the override in the config, e.g. `/devices/2/rules/0`. */
  path: string;
}

export class RuleOverrideError extends Error {
  readonly source: string;
  readonly path: string;
  constructor(source: string, path: string, message: string) {
    super(`${source}: ${path}: ${message}`);
    this.name = 'ConfigError';
    this.source = source;
    this.path = path;
  }
}

/** The profile's rules with the overrides applied in order (site level first, then device level). */
export function applyRuleOverrides(profile: Profile, overrides: readonly RuleOverrideAt[], source: string): Rule[] {
  const rules: Rule[] = [...profile.rules];
  for (const { value, path } of overrides) {
    const { disabled, profile: _profile, ...fields } = value;
    const alarmType = fields.alarmType;
    if (typeof alarmType !== 'string') throw new RuleOverrideError(source, `${path}/alarmType`, 'expected the alarmType of the rule to override or add');
    const index = rules.findIndex((r) => r.alarmType === alarmType);
    if (disabled === true) {
      if (index < 0) throw new RuleOverrideError(source, `${path}/alarmType`, `profile ${profile.id} has no rule ${alarmType} to disable (has: ${rules.map((r) => r.alarmType).join(', ')})`);
      rules.splice(index, 1);
      continue;
    }
    if (index < 0 && fields.kind === undefined) {
      throw new RuleOverrideError(source, `${path}/kind`, `profile ${profile.id} has no rule ${alarmType}; a new rule needs a kind`);
    }
    const merged: Record<string, unknown> = index < 0 ? fields : { ...rules[index], ...fields };
    const schema = RuleSchemas[merged.kind as keyof typeof RuleSchemas] as TSchema | undefined;
    if (!schema) throw new RuleOverrideError(source, `${path}/kind`, `expected one of ${Object.keys(RuleSchemas).join(', ')}`);
    const error = firstSchemaError(schema, merged);
    if (error) throw new RuleOverrideError(source, `${path}${error.path === '/' ? '' : error.path}`, error.message);
    const rule = merged as unknown as Rule;
    const earlier = new Set(rules.slice(0, index < 0 ? rules.length : index).map((r) => r.alarmType));
    try {
      checkRule(profile, rule, path, source, earlier);
    } catch (err) {
      if (err instanceof ProfileError) throw new RuleOverrideError(source, err.path, err.message.slice(`${source}: ${err.path}: `.length));
      throw err;
    }
    if (index < 0) rules.push(rule);
    else rules[index] = rule;
  }
  return rules;
}
