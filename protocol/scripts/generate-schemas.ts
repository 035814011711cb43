// Writes protocol/schema/<kind>.schema.json from the TypeBox source. `--check` exits 1 when the
// committed files differ, so CI catches a schema edited in one place only.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
// The receiver's view is published: it documents that unknown properties are ignored.
import { ReceiverSchemas as MessageSchemas } from '../src/validate.ts';

export function renderSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [kind, schema] of Object.entries(MessageSchemas)) {
    const document = { $schema: 'http://json-schema.org/draft-07/schema#', $id: `https://gridwatch.dev/schema/${kind}.schema.json`, title: kind, ...schema };
    files.set(`${kind}.schema.json`, `${JSON.stringify(document, null, 2)}\n`);
  }
  return files;
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  const dir = join(import.meta.dirname, '..', 'schema');
  const check = process.argv.includes('--check');
  mkdirSync(dir, { recursive: true });
  let stale = 0;
  for (const [name, text] of renderSchemas()) {
    const path = join(dir, name);
    if (check) {
      if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
        console.error(`${path} is out of date: run npm run gen:schemas`);
        stale++;
      }
    } else {
      writeFileSync(path, text);
      console.log(`wrote ${path}`);
    }
  }
  process.exit(stale ? 1 : 0);
}
