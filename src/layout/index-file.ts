import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { OciError } from '../errors.js';
import { jsonNestsDeeperThan, MAX_JSON_NESTING } from '../oci/json-nesting.js';
import { isStringRecord } from '../oci/referrers.js';
import type { Descriptor } from '../oci/types.js';
import { isDigest } from '../ref/digest.js';
import { INDEX_FILE, REF_NAME } from './paths.js';

/**
 * index.json of a layout: read and validated, rewritten atomically, and pure edits of its `manifests` list.
 * Fields this tool does not know (top-level or per entry) are kept as they were.
 */
export interface LayoutIndex {
  schemaVersion: 2;
  manifests: Descriptor[];
  [field: string]: unknown;
}

/** index.json only lists descriptors; anything this large is not one. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

function invalid(root: string, why: string, cause?: unknown): OciError {
  return new OciError('LAYOUT_INVALID', `${join(root, INDEX_FILE)} is not a valid OCI image index: ${why}`, {
    kind: 'usage',
    cause,
    hint: 'point to a directory written by an OCI layout tool (oci-layout, index.json, blobs/)',
  });
}

export async function readIndex(root: string): Promise<LayoutIndex> {
  const path = join(root, INDEX_FILE);
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_INDEX_BYTES) throw invalid(root, `it is ${size} bytes, more than ${MAX_INDEX_BYTES}`);
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof OciError) throw err;
    throw invalid(root, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file is missing' : (err as Error).message, err);
  }
  return parseIndex(root, text);
}

export function parseIndex(root: string, text: string): LayoutIndex {
  // Fields kept as they were are written back with JSON.stringify, which overflows the stack on deep nesting.
  if (jsonNestsDeeperThan(text)) throw invalid(root, `it nests arrays and objects more than ${MAX_JSON_NESTING} levels deep`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(root, 'it is not JSON', err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(root, 'it is not a JSON object');
  const index = value as Record<string, unknown>;
  if (index.schemaVersion !== 2) throw invalid(root, 'schemaVersion is not 2');
  if (!Array.isArray(index.manifests)) throw invalid(root, "it has no 'manifests' list");
  index.manifests.forEach((entry: unknown, i) => {
    const e = entry as Partial<Descriptor> | null;
    if (
      typeof e !== 'object' || e === null ||
      typeof e.mediaType !== 'string' || typeof e.digest !== 'string' || !isDigest(e.digest) ||
      typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0
    ) {
      throw invalid(root, `manifests[${i}] is not a descriptor with mediaType, a valid digest and a size`);
    }
    // A tag (org.opencontainers.image.ref.name) is one of them: it must be a string to be listed or compared.
    if (e.annotations !== undefined && !isStringRecord(e.annotations)) {
      throw invalid(root, `manifests[${i}].annotations must map strings to strings`);
    }
  });
  return index as LayoutIndex;
}

export async function writeIndex(root: string, index: LayoutIndex): Promise<void> {
  await writeFileAtomic(join(root, INDEX_FILE), `${JSON.stringify(index)}\n`, { flush: true });
}

export function refName(entry: Descriptor): string | undefined {
  return entry.annotations?.[REF_NAME];
}

/** The entry carrying `tag`; when several do (other tools can write that), the last one wins. */
export function findTagged(manifests: readonly Descriptor[], tag: string): Descriptor | undefined {
  return manifests.findLast((entry) => refName(entry) === tag);
}

export function findDigest(manifests: readonly Descriptor[], digest: string): Descriptor | undefined {
  return manifests.find((entry) => entry.digest === digest);
}

export function tagsOf(manifests: readonly Descriptor[]): string[] {
  const tags = new Set<string>();
  for (const entry of manifests) {
    const tag = refName(entry);
    if (tag !== undefined) tags.add(tag);
  }
  return [...tags].sort();
}

/**
 * Point `tag` at `target`: every entry carrying the tag goes, and so does an untagged entry of the same digest
 * (the tagged one lists it now). A replaced manifest whose digest is in `keepUntagged` (it has a subject, so it
 * must stay findable as a referrer) and that no other entry lists stays as an untagged entry.
 */
export function setTag(
  manifests: readonly Descriptor[],
  target: Descriptor,
  tag: string,
  keepUntagged: ReadonlySet<string>,
): Descriptor[] {
  const result: Descriptor[] = [];
  const replaced: Descriptor[] = [];
  for (const entry of manifests) {
    const name = refName(entry);
    if (name === tag) replaced.push(entry);
    else if (!(name === undefined && entry.digest === target.digest)) result.push(entry);
  }
  for (const entry of replaced) {
    const listed = entry.digest === target.digest || result.some((e) => e.digest === entry.digest);
    // `listed` also sees an untagged entry pushed for an earlier replaced entry of the same digest
    if (keepUntagged.has(entry.digest) && !listed) result.push(withoutTag(entry));
  }
  result.push({ mediaType: target.mediaType, digest: target.digest, size: target.size, annotations: { [REF_NAME]: tag } });
  return result;
}

/** Add an untagged entry for `target` unless some entry already lists its digest; undefined when nothing changes. */
export function addUntagged(manifests: readonly Descriptor[], target: Descriptor): Descriptor[] | undefined {
  if (findDigest(manifests, target.digest) !== undefined) return undefined;
  return [...manifests, { mediaType: target.mediaType, digest: target.digest, size: target.size }];
}

export function removeDigest(manifests: readonly Descriptor[], digest: string): Descriptor[] {
  return manifests.filter((entry) => entry.digest !== digest);
}

function withoutTag(entry: Descriptor): Descriptor {
  const copy: Descriptor = { ...entry };
  const annotations = { ...entry.annotations };
  delete annotations[REF_NAME];
  if (Object.keys(annotations).length > 0) copy.annotations = annotations;
  else delete copy.annotations;
  return copy;
}
