// The `--lang` option of the commands that write for people (report, device show, read).
import { Option, type Command } from 'commander';
import { defaultLang, LANGS, type Lang } from '../render/i18n.ts';

export interface LangFlag {
  lang: Lang;
}

export function langOption(command: Command): Command {
  return command.addOption(
    new Option('--lang <lang>', 'language of the output (env GRIDWATCH_LANG)')
      .choices(LANGS)
      .default(defaultLang()),
  );
}
