// The map's words, from the console's one label source (labels/ui.json, zh-CN first then en).
import ui from '../../labels/ui.json' with { type: 'json' };

export type Lang = 'zh-CN' | 'en';

const TABLE = ui as unknown as Record<Lang, Record<string, string>>;

/** The label with its {{param}} placeholders filled; the key itself when missing (the i18n test catches that). */
export function label(lang: Lang, key: string, params: Record<string, string | number> = {}): string {
  const text = TABLE[lang]?.[key] ?? TABLE['zh-CN']?.[key] ?? key;
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => String(params[name] ?? ''));
}
