import { parseAllDocuments } from 'yaml';

/**
 * Semantic YAML diff: documents are compared as Kubernetes objects, matched by apiVersion/kind/namespace/name
 * across all YAML files of each side (so moving an object to another file is no change), and compared as data
 * (key order, comments, quoting and formatting ignored). What differs is reported as field paths.
 */
export interface YamlObject {
  /** Matching key: the identity when the document has one, else `<file>#<index>`. */
  key: string;
  /** Human name, e.g. `apps/v1 Deployment default/web`, or `kustomization.yaml#0`. */
  display: string;
  file: string;
  kind?: string;
  value: unknown;
}

export interface FieldChange {
  /** e.g. `spec.template.spec.containers[name=web].image`, `metadata.labels["app.kubernetes.io/name"]`. */
  path: string;
  change: 'added' | 'removed' | 'changed';
  old?: unknown;
  new?: unknown;
}

export interface ObjectChange {
  object: string;
  status: 'added' | 'removed' | 'modified';
  oldFile?: string;
  newFile?: string;
  fields: FieldChange[];
}

export const REDACTED = '<redacted>';

export function isYamlPath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** Documents of one YAML file as objects; undefined when the file is not valid YAML (it is then compared as text). */
export function parseYamlObjects(file: string, content: string): YamlObject[] | undefined {
  let documents;
  try {
    documents = parseAllDocuments(content);
  } catch {
    return undefined;
  }
  // parseAllDocuments returns an EmptyStream (no documents) for an empty file, a list otherwise.
  const list = Array.isArray(documents) ? documents : [];
  const objects: YamlObject[] = [];
  for (const [index, document] of list.entries()) {
    if (document.errors.length > 0) return undefined;
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch {
      return undefined;
    }
    if (value === null || value === undefined) continue; // empty document between `---` lines
    objects.push(identify(file, index, value));
  }
  return objects;
}

function identify(file: string, index: number, value: unknown): YamlObject {
  const fallback = `${file}#${index}`;
  if (!isPlainObject(value)) return { key: fallback, display: fallback, file, value };
  const { apiVersion, kind } = value;
  const metadata = isPlainObject(value.metadata) ? value.metadata : {};
  const { name, namespace } = metadata;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string' || name === '') {
    return { key: fallback, display: fallback, file, value, kind: typeof kind === 'string' ? kind : undefined };
  }
  const ns = typeof namespace === 'string' && namespace !== '' ? namespace : undefined;
  return {
    key: JSON.stringify([apiVersion, kind, ns ?? '', name]),
    display: `${apiVersion} ${kind} ${ns === undefined ? name : `${ns}/${name}`}`,
    file,
    kind,
    value,
  };
}

/** Objects added, removed or modified between two sides, in a stable order (by display name). */
export function diffObjects(oldObjects: readonly YamlObject[], newObjects: readonly YamlObject[]): ObjectChange[] {
  const before = keyed(oldObjects);
  const after = keyed(newObjects);
  const changes: ObjectChange[] = [];
  for (const [key, a] of before) {
    const b = after.get(key);
    if (b === undefined) {
      changes.push({ object: a.display, status: 'removed', oldFile: a.file, fields: [] });
      continue;
    }
    const fields = fieldChanges(a.value, b.value);
    if (fields.length > 0) {
      changes.push({ object: a.display, status: 'modified', oldFile: a.file, newFile: b.file, fields: redact(a, fields) });
    }
  }
  for (const [key, b] of after) {
    if (!before.has(key)) changes.push({ object: b.display, status: 'added', newFile: b.file, fields: [] });
  }
  return changes.sort((x, y) => compareText(x.object, y.object) || compareText(x.status, y.status));
}

/** The same identity twice on one side (e.g. two overlays in one artifact) stays two entries: `<key>#2`. */
function keyed(objects: readonly YamlObject[]): Map<string, YamlObject> {
  const map = new Map<string, YamlObject>();
  for (const object of objects) {
    let key = object.key;
    for (let n = 2; map.has(key); n++) key = `${object.key}#${n}`;
    map.set(key, object);
  }
  return map;
}

/** Secret values are never shown, only that they changed. */
function redact(object: YamlObject, fields: FieldChange[]): FieldChange[] {
  if (object.kind !== 'Secret') return fields;
  return fields.map((field) => {
    if (!/^(data|stringData)([.[]|$)/.test(field.path)) return field;
    const masked: FieldChange = { path: field.path, change: field.change };
    if ('old' in field) masked.old = REDACTED;
    if ('new' in field) masked.new = REDACTED;
    return masked;
  });
}

type Segment = string | number | { name: string };

/** Field-level differences between two plain data values (as parsed from YAML or JSON). */
export function fieldChanges(oldValue: unknown, newValue: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  walk(oldValue, newValue, [], out);
  return out;
}

function walk(a: unknown, b: unknown, path: Segment[], out: FieldChange[]): void {
  if (deepEqual(a, b)) return;
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compareText);
    for (const key of keys) {
      if (!(key in a)) out.push({ path: formatPath([...path, key]), change: 'added', new: b[key] });
      else if (!(key in b)) out.push({ path: formatPath([...path, key]), change: 'removed', old: a[key] });
      else walk(a[key], b[key], [...path, key], out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (isNamedList(a) && isNamedList(b)) {
      walkNamedLists(a, b, path, out);
      return;
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length) out.push({ path: formatPath([...path, i]), change: 'added', new: b[i] });
      else if (i >= b.length) out.push({ path: formatPath([...path, i]), change: 'removed', old: a[i] });
      else walk(a[i], b[i], [...path, i], out);
    }
    return;
  }
  out.push({ path: formatPath(path), change: 'changed', old: a, new: b });
}

/**
 * Lists of objects with unique string `name`s (containers, env, ports, volumes) are matched by name, as
 * Kubernetes merges them, so inserting one entry does not show every later entry as changed.
 */
function isNamedList(list: unknown[]): list is Array<Record<string, unknown> & { name: string }> {
  const names = new Set<string>();
  for (const item of list) {
    if (!isPlainObject(item) || typeof item.name !== 'string' || names.has(item.name)) return false;
    names.add(item.name);
  }
  return list.length > 0;
}

function walkNamedLists(a: Array<{ name: string }>, b: Array<{ name: string }>, path: Segment[], out: FieldChange[]): void {
  const after = new Map(b.map((item) => [item.name, item]));
  const before = new Map(a.map((item) => [item.name, item]));
  for (const item of a) {
    const segment = [...path, { name: item.name }];
    const other = after.get(item.name);
    if (other === undefined) out.push({ path: formatPath(segment), change: 'removed', old: item });
    else walk(item, other, segment, out);
  }
  for (const item of b) {
    if (!before.has(item.name)) out.push({ path: formatPath([...path, { name: item.name }]), change: 'added', new: item });
  }
  const order = (list: Array<{ name: string }>) => list.map((i) => i.name).filter((n) => before.has(n) && after.has(n));
  if (!deepEqual(order(a), order(b))) out.push({ path: formatPath(path), change: 'changed', old: order(a), new: order(b) });
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

export function formatPath(path: readonly Segment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'object') text += `[name=${segment.name}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text === '' ? '.' : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Map);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  return false;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
