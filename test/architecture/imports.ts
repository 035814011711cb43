// The import-rule check behind docs/ARCHITECTURE.md: every .ts file belongs to a room, and each
// import (static, re-export, dynamic, type-only alike) goes to its own room, a room its rules
// allow, or through a named temporary exception. The rules live in ONE place: the
// `yaml import-rules` block of docs/ARCHITECTURE.md, which this module parses.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';

export const ROOT = join(import.meta.dirname, '..', '..');
export const RULES_DOC = 'docs/ARCHITECTURE.md';

export interface Room {
  room: string;
  /** `dir/` = everything below it; `dir/*.ts` = the files directly in it; `file.ts` = that file. */
  files: string[];
  /** Rooms it may import; `'*'` = any. */
  may: string[];
  rule: string;
}

export interface Exception {
  from: string;
  to: string;
  why: string;
}

export interface ImportRules {
  rooms: Room[];
  exceptions: Exception[];
}

export interface ImportEdge {
  file: string;
  specifier: string;
  from: string;
  to: string;
}

export interface Report {
  /** Files no room claims. */
  homeless: string[];
  /** Imports that no rule or exception allows. */
  violations: ImportEdge[];
  /** Exceptions that no import uses any more (remove them). */
  unusedExceptions: Exception[];
}

/** The rules block of docs/ARCHITECTURE.md (or of the given markdown text). */
export function loadRules(markdown = readFileSync(join(ROOT, RULES_DOC), 'utf8')): ImportRules {
  const block = /```yaml import-rules\n([\s\S]*?)\n```/.exec(markdown);
  if (!block) throw new Error(`${RULES_DOC}: no \`\`\`yaml import-rules block`);
  const rules = parseYaml(block[1]!) as ImportRules;
  const names = new Set(rules.rooms.map((r) => r.room));
  for (const r of rules.rooms) {
    for (const m of r.may) if (m !== '*' && !names.has(m)) throw new Error(`room ${r.room} may import unknown room ${m}`);
  }
  for (const e of rules.exceptions ?? []) {
    if (!names.has(e.from) || !names.has(e.to)) throw new Error(`exception ${e.from} -> ${e.to} names an unknown room`);
  }
  return { rooms: rules.rooms, exceptions: rules.exceptions ?? [] };
}

/** Every .ts file of the repository (not node_modules, not data folders), path → source. */
export function readTree(root = ROOT): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'data' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.set(relative(root, path).split('\\').join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(root);
  return files;
}

export function roomOf(file: string, rooms: readonly Room[]): Room | undefined {
  return rooms.find((r) =>
    r.files.some((pattern) => {
      if (pattern.endsWith('/')) return file.startsWith(pattern);
      if (pattern.endsWith('/*.ts')) return posix.dirname(file) === pattern.slice(0, -'/*.ts'.length) && file.endsWith('.ts');
      return file === pattern;
    }),
  );
}

/** Workspace package names (`@gridwatch/edge`) → the file their main export points at. */
export function workspaceEntries(root = ROOT): Map<string, string> {
  const entries = new Map<string, string>();
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
  for (const dir of workspaces) {
    const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { name: string; exports?: string | Record<string, string>; main?: string };
    const main = typeof pkg.exports === 'string' ? pkg.exports : (pkg.exports?.['.'] ?? pkg.main ?? 'index.js');
    entries.set(pkg.name, posix.join(dir, main));
  }
  return entries;
}

/** The repository file an import specifier points at, or null for npm and node: modules. */
function target(file: string, specifier: string, entries: ReadonlyMap<string, string>): string | null {
  if (specifier.startsWith('.')) return posix.normalize(posix.join(posix.dirname(file), specifier));
  for (const [name, entry] of entries) {
    if (specifier === name) return entry;
    if (specifier.startsWith(`${name}/`)) return posix.join(dirname(entry).split('\\').join('/'), specifier.slice(name.length + 1));
  }
  return null;
}

export function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

export function check(files: ReadonlyMap<string, string>, rules: ImportRules, entries = workspaceEntries()): Report {
  const byName = new Map(rules.rooms.map((r) => [r.room, r]));
  const homeless: string[] = [];
  const violations: ImportEdge[] = [];
  const used = new Set<Exception>();
  for (const [file, source] of files) {
    const from = roomOf(file, rules.rooms);
    if (!from) {
      homeless.push(file);
      continue;
    }
    for (const specifier of importsOf(source)) {
      const path = target(file, specifier, entries);
      if (path === null || !path.endsWith('.ts')) continue;
      const to = roomOf(path, rules.rooms);
      if (!to) {
        violations.push({ file, specifier, from: from.room, to: '(no room)' });
        continue;
      }
      if (to === from || from.may.includes('*') || byName.get(from.room)!.may.includes(to.room)) continue;
      const exception = rules.exceptions.find((e) => e.from === from.room && e.to === to.room);
      if (exception) used.add(exception);
      else violations.push({ file, specifier, from: from.room, to: to.room });
    }
  }
  return { homeless, violations, unusedExceptions: rules.exceptions.filter((e) => !used.has(e)) };
}

/** A cycle among the rooms' own `may` lists (exceptions left out), as room names, or null. */
export function cycleInRules(rules: ImportRules): string[] | null {
  const may = new Map(rules.rooms.map((r) => [r.room, r.may.filter((m) => m !== '*')]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (room: string): string[] | null => {
    if (state.get(room) === 'done') return null;
    if (state.get(room) === 'open') return [...path.slice(path.indexOf(room)), room];
    state.set(room, 'open');
    path.push(room);
    for (const next of may.get(room) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(room, 'done');
    return null;
  };
  for (const room of may.keys()) {
    const cycle = visit(room);
    if (cycle) return cycle;
  }
  return null;
}
