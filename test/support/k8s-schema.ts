// Checks Kubernetes manifests for unknown keys (a typo kubectl would silently drop with
// --validate=false, or reject at apply time) against the model classes of the official
// JavaScript client, which list every field of every built-in kind.
import * as k8s from '@kubernetes/client-node';

interface Attribute {
  name: string;
  baseName: string;
  type: string;
}
type ModelClass = { getAttributeTypeMap(): Attribute[] };

const models = k8s as unknown as Record<string, ModelClass | undefined>;
const PRIMITIVES = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);

/** The client's class name for an apiVersion/kind, e.g. apps/v1 Deployment → V1Deployment. */
export function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').at(-1)!;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

function checkValue(type: string, value: unknown, path: string, problems: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) problems.push(`${path}: expected a list`);
    else value.forEach((item, i) => checkValue(array[1]!, item, `${path}[${i}]`, problems));
    return;
  }
  const dictionary = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (dictionary) {
    if (typeof value !== 'object' || Array.isArray(value)) problems.push(`${path}: expected a map`);
    else for (const [key, item] of Object.entries(value)) checkValue(dictionary[1]!, item, `${path}.${key}`, problems);
    return;
  }
  if (PRIMITIVES.has(type)) {
    if (type === 'string' && typeof value !== 'string') problems.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
    if (type === 'number' && typeof value !== 'number') problems.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
    if (type === 'boolean' && typeof value !== 'boolean') problems.push(`${path}: expected true or false, got ${JSON.stringify(value)}`);
    return;
  }
  const model = models[type];
  if (!model) {
    problems.push(`${path}: the client has no model ${type}`);
    return;
  }
  checkObject(model, value, path, problems);
}

function checkObject(model: ModelClass, value: unknown, path: string, problems: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${path}: expected an object`);
    return;
  }
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a]));
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.get(key);
    if (!attribute) {
      problems.push(`${path}.${key}: unknown field`);
      continue;
    }
    checkValue(attribute.type, item, `${path}.${key}`, problems);
  }
}

/** Problems found in one manifest document, each naming its path; empty when it is valid. */
export function checkManifest(document: Record<string, unknown>): string[] {
  const { apiVersion, kind } = document;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['apiVersion and kind are required'];
  const name = modelName(apiVersion, kind);
  const model = models[name];
  if (!model) return [`${apiVersion} ${kind}: not a built-in Kubernetes kind (no model ${name})`];
  const problems: string[] = [];
  checkObject(model, document, kind, problems);
  return problems;
}
