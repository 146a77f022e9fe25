import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Pair } from 'yaml';
import { parseAnnotationFlags } from '../../artifact/manifest.js';
import { parseSourceSpec, type SourceSpec } from '../../artifact/sources.js';
import { isOciError, OciError, usageError } from '../../errors.js';
import { checkFluxInterval, checkFluxName, checkFluxNamespace, checkFluxPath } from './flux-fields.js';
import { checkTag, formatReference, parseReference, withVersion, type ArtifactReference } from '../../ref/reference.js';

/**
 * `oci-artifact.yaml`: the artifacts of a repository, pushed together by `push --all`.
 *
 *   version: 1
 *   artifacts:
 *     - name: web-prod                                  # unique; letters, digits, '.', '_', '-'
 *       reference: oci://ghcr.io/org/web:prod           # must name a tag; ${VARIABLES} allowed
 *       tags: ["${GIT_SHA}"]                            # more tags for the same digest, added when it is pushed
 *       sources: [apps/web/base, apps/web/prod:overlay] # SRC[:DEST], relative to this file's directory
 *       ignore: ["*.md"]                                # added to the default ignore patterns
 *       annotations: { team: web }                      # ${VARIABLES} allowed in values
 *       sign: { key: cosign.key }                       # sign the pushed digest with this cosign key
 *       flux: { path: ./prod, interval: 10m }           # its Flux objects (push --all --emit-flux); name, namespace too
 *
 * `${NAME}` is replaced by the environment variable NAME; `${GIT_SHA}` and `${GIT_TAG}` also come from the CI
 * system or git when not set (resolveVariables); `$$` is a literal `$`. Every error names the file and line.
 */
export const CONFIG_FILE_NAME = 'oci-artifact.yaml';

export interface ConfiguredArtifact {
  name: string;
  ref: ArtifactReference;
  /** Extra tags, after variables were replaced. */
  tags: string[];
  /** Paths absolute (resolved against the file's directory). */
  sources: SourceSpec[];
  ignore: string[];
  annotations: Record<string, string>;
  /** The key's path, absolute. */
  sign?: { key: string };
  /** Its Flux objects' fields (checked), for `push --all --emit-flux`. */
  flux?: ConfiguredFlux;
  /** Line of the entry in the file (for messages). */
  line: number;
}

export interface ConfiguredFlux {
  name?: string;
  namespace?: string;
  interval?: string;
  path?: string;
}

export interface ConfigFile {
  /** As given (for messages). */
  path: string;
  /** The file's directory: sources and keys are relative to it. */
  baseDir: string;
  artifacts: ConfiguredArtifact[];
}

/** Variable values: asked for by name, only for the names the file uses; undefined when not set. */
export type VariableLookup = (name: string) => string | undefined;

const ARTIFACT_KEYS = new Set(['name', 'reference', 'tags', 'sources', 'ignore', 'annotations', 'sign', 'flux']);
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Read, check and expand the file at `path` (relative to `cwd`); its sources are relative to its own directory. */
export async function loadConfigFile(path: string, cwd: string, lookup: VariableLookup): Promise<ConfigFile> {
  const absolute = resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OciError('CONFIG_UNREADABLE', code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${code ?? String(err)}`, {
      kind: 'usage',
      hint: `Create ${CONFIG_FILE_NAME} (see the README's "monorepo pipeline"), or name another file with --config.`,
      cause: err,
    });
  }
  return parseConfigFile(text, path, dirname(absolute), lookup);
}

export function parseConfigFile(text: string, path: string, baseDir: string, lookup: VariableLookup): ConfigFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const lineOf = (node: Node | Pair | null | undefined): number => {
    const range = node && 'range' in node ? node.range : node && 'key' in node ? (node.key as Node | null)?.range : undefined;
    return range ? lines.linePos(range[0]).line : 1;
  };
  const fail = (line: number, message: string): never => {
    throw usageError('CONFIG_INVALID', `${path}:${line}: ${message}`, `See the schema of ${CONFIG_FILE_NAME} in the README ("monorepo pipeline").`);
  };
  const checker: Checker = { lineOf, fail };
  const syntax = doc.errors[0];
  if (syntax !== undefined) fail(lines.linePos(syntax.pos[0]).line, syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''));

  const root = doc.contents;
  if (!isMap(root)) return fail(lineOf(root), `the file must be a mapping with 'version: 1' and 'artifacts'`);
  for (const pair of root.items) {
    const key = keyOf(pair);
    if (key !== 'version' && key !== 'artifacts') fail(lineOf(pair), `unknown key '${key}' (expected version, artifacts)`);
  }
  const version = root.get('version', true) as Node | undefined;
  if (!isScalar(version) || (version.value as unknown) !== 1) fail(lineOf(version ?? root), `'version' must be 1`);
  const list = root.get('artifacts', true);
  if (!isSeq(list) || list.items.length === 0) return fail(lineOf(list ?? root), `'artifacts' must be a non-empty list`);

  const expand = (value: string, line: number, where: string): string => expandVariables(value, lookup, (message) => fail(line, `${where}: ${message}`));
  const seenNames = new Map<string, number>();
  // Each repository:tag is written by one artifact only: two would overwrite each other in no set order.
  const claimed = new Map<string, string>();
  const claim = (reference: string, line: number, what: string, name: string): void => {
    const owner = claimed.get(reference);
    if (owner !== undefined) fail(line, `${what} makes ${reference}, which '${owner}' makes too`);
    claimed.set(reference, name);
  };
  const artifacts = list.items.map((item, index): ConfiguredArtifact => {
    const at = `artifacts[${index}]`;
    if (!isMap(item)) return fail(lineOf(item as Node), `${at} must be a mapping with name, reference and sources`);
    const line = lineOf(item);
    for (const pair of item.items) {
      const key = keyOf(pair);
      if (!ARTIFACT_KEYS.has(key)) fail(lineOf(pair), `${at}: unknown key '${key}' (expected ${[...ARTIFACT_KEYS].join(', ')})`);
    }
    const field = (key: string) => ({ node: item.get(key, true) as Node | undefined, where: `${at}.${key}` });

    const name = requiredString(field('name'), line, checker);
    if (!NAME_PATTERN.test(name)) fail(lineOf(field('name').node), `${at}.name '${name}' may hold only letters, digits, '.', '_' and '-'`);
    const earlier = seenNames.get(name);
    if (earlier !== undefined) fail(lineOf(field('name').node), `${at}.name '${name}' is already used on line ${earlier}`);
    seenNames.set(name, lineOf(field('name').node));

    const refNode = field('reference');
    const refText = expand(requiredString(refNode, line, checker), lineOf(refNode.node), refNode.where);
    let ref: ArtifactReference;
    try {
      ref = parseReference(refText);
    } catch (err) {
      return fail(lineOf(refNode.node), `${refNode.where}: ${(err as Error).message}`);
    }
    if (ref.tag === undefined || ref.digest !== undefined) fail(lineOf(refNode.node), `${refNode.where} '${refText}' must name a tag (e.g. oci://host/repo:prod), not a digest`);
    claim(formatReference(ref), lineOf(refNode.node), `${refNode.where} '${refText}'`, name);

    const tagsField = field('tags');
    const tags = stringList(tagsField, checker).map((tag) => {
      const value = expand(tag.value, tag.line, tagsField.where);
      try {
        checkTag(value);
      } catch (err) {
        return fail(tag.line, `${tagsField.where}: ${(err as Error).message}`);
      }
      claim(formatReference(withVersion(ref, { tag: value })), tag.line, `${tagsField.where}: '${value}'`, name);
      return value;
    });

    const sourcesField = field('sources');
    if (sourcesField.node === undefined) fail(line, `${at} needs 'sources' (a list of SRC[:DEST])`);
    const sources = stringList(sourcesField, checker).map((source) => {
      try {
        const spec = parseSourceSpec(source.value, baseDir);
        const path = resolve(baseDir, spec.path);
        if (!existsSync(path)) fail(source.line, `${sourcesField.where}: '${spec.path}' does not exist in ${baseDir}`);
        return { path, dest: spec.dest };
      } catch (err) {
        if (isOciError(err) && err.code === 'CONFIG_INVALID') throw err;
        return fail(source.line, `${sourcesField.where}: ${(err as Error).message}`);
      }
    });
    if (sources.length === 0) fail(lineOf(sourcesField.node), `${sourcesField.where} must list at least one source`);

    const ignore = stringList(field('ignore'), checker).map((p) => p.value);
    const annotations = annotationMap(field('annotations'), checker, expand);
    const sign = signOptions(field('sign'), checker, baseDir);
    const flux = fluxOptions(field('flux'), checker);
    return { name, ref, tags, sources, ignore, annotations, sign, flux, line };
  });
  return { path, baseDir, artifacts };
}

type Fail = (line: number, message: string) => never;
interface Field { node: Node | undefined; where: string }
/** Where a node starts in the file, and how to report a problem there. */
interface Checker { lineOf: (node: Node | Pair | null | undefined) => number; fail: Fail }

function keyOf(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function requiredString(field: Field, line: number, { lineOf, fail }: Checker): string {
  if (field.node === undefined) return fail(line, `${field.where.replace(/\.\w+$/, '')} needs '${field.where.split('.').pop()}'`);
  if (!isScalar(field.node) || typeof field.node.value !== 'string' || field.node.value === '') {
    return fail(lineOf(field.node), `${field.where} must be a non-empty string`);
  }
  return field.node.value;
}

function stringList(field: Field, { lineOf, fail }: Checker): Array<{ value: string; line: number }> {
  if (field.node === undefined) return [];
  const line = lineOf(field.node);
  if (!isSeq(field.node)) return fail(line, `${field.where} must be a list of strings`);
  return field.node.items.map((item, i) => {
    if (!isScalar(item) || typeof item.value !== 'string' || item.value === '') {
      return fail(lineOf(item as Node), `${field.where}[${i}] must be a non-empty string`);
    }
    return { value: item.value, line: lineOf(item) };
  });
}

function annotationMap(field: Field, { lineOf, fail }: Checker, expand: (value: string, line: number, where: string) => string): Record<string, string> {
  if (field.node === undefined) return {};
  const line = lineOf(field.node);
  if (!isMap(field.node)) return fail(line, `${field.where} must map annotation keys to string values`);
  const pairs: string[] = [];
  for (const pair of field.node.items) {
    const key = keyOf(pair);
    const value = pair.value;
    const at = lineOf(pair);
    if (!isScalar(value) || (typeof value.value !== 'string' && typeof value.value !== 'number' && typeof value.value !== 'boolean')) {
      fail(at, `${field.where}.${key} must be a string`);
    }
    pairs.push(`${key}=${expand(String((value as { value: unknown }).value), at, `${field.where}.${key}`)}`);
  }
  try {
    return parseAnnotationFlags(pairs);
  } catch (err) {
    return fail(line, `${field.where}: ${(err as Error).message}`);
  }
}

function signOptions(field: Field, { lineOf, fail }: Checker, baseDir: string): { key: string } | undefined {
  if (field.node === undefined) return undefined;
  const line = lineOf(field.node);
  if (!isMap(field.node)) return fail(line, `${field.where} must be a mapping such as { key: cosign.key }`);
  for (const pair of field.node.items) {
    if (keyOf(pair) !== 'key') fail(lineOf(pair), `${field.where}: unknown key '${keyOf(pair)}' (expected key)`);
  }
  const key = field.node.get('key', true) as Node | undefined;
  if (!isScalar(key) || typeof key.value !== 'string' || key.value === '') return fail(line, `${field.where}.key must name a cosign private key file`);
  return { key: resolve(baseDir, key.value) };
}

const FLUX_KEYS: Record<keyof ConfiguredFlux, (what: string, value: string) => string> = {
  name: checkFluxName, namespace: checkFluxNamespace, interval: checkFluxInterval, path: checkFluxPath,
};

function fluxOptions(field: Field, { lineOf, fail }: Checker): ConfiguredFlux | undefined {
  if (field.node === undefined) return undefined;
  if (!isMap(field.node)) return fail(lineOf(field.node), `${field.where} must be a mapping such as { path: ./apps/web }`);
  const flux: ConfiguredFlux = {};
  for (const pair of field.node.items) {
    const key = keyOf(pair) as keyof ConfiguredFlux;
    const check = Object.hasOwn(FLUX_KEYS, key) ? FLUX_KEYS[key] : undefined;
    if (check === undefined) return fail(lineOf(pair), `${field.where}: unknown key '${key}' (expected ${Object.keys(FLUX_KEYS).join(', ')})`);
    const value = pair.value;
    if (!isScalar(value) || typeof value.value !== 'string' || value.value === '') return fail(lineOf(pair), `${field.where}.${key} must be a non-empty string`);
    try {
      flux[key] = check(`${field.where}.${key}`, value.value);
    } catch (err) {
      return fail(lineOf(pair), (err as Error).message);
    }
  }
  return flux;
}

/**
 * Replace `${NAME}` with its value and `$$` with `$`; any other `$` stays. A name that is not set, or a `${` without
 * its `}`, is reported through `fail`.
 */
export function expandVariables(value: string, lookup: VariableLookup, fail: (message: string) => never): string {
  return value.replace(/\$\$|\$\{([^}]*)(\}?)/g, (match, name: string | undefined, close: string | undefined) => {
    if (match === '$$') return '$';
    if (close !== '}') return fail(`'\${' without a closing '}' in '${value}'`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name ?? '')) return fail(`'\${${name}}' is not a variable name`);
    const resolved = lookup(name as string);
    if (resolved === undefined || resolved === '') return fail(`\${${name}} is not set`);
    return resolved;
  });
}
