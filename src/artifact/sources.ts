import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { usageError } from '../errors.js';
import { clipName, entryNameProblem } from './entry-name.js';
import { pathNotFound, sortByBytes, walkTree, type WalkEntry, type WalkOptions } from './walk.js';

/**
 * Several local sources packed into one artifact (`-f SRC[:DEST]`, repeatable).
 *
 * A source is a directory or a file; DEST is the directory inside the artifact it is placed under ('' = the root):
 * a directory's contents go below DEST, a file goes to DEST/<its name>. Each source is walked on its own, so its
 * own `.sourceignore` and the ignore flags apply relative to that source's root, never to DEST.
 *
 * The merged tree is one tar in Go's walk order (each directory's names sorted by bytes), whatever order the
 * sources were given in: a path is claimed by one source only (two sources putting a file at the same path, or a
 * file where another has a directory, is a usage error), and a directory that more than one source contributes to,
 * or that only exists as a parent of a DEST, has the fixed mode 0755 (the modes of the sources' own directories
 * would otherwise depend on their order). A single source at the root is packed exactly as `-f PATH` always was.
 */
export interface SourceSpec {
  /** The directory or file, as given (relative to the working directory, or absolute). */
  path: string;
  /** '/'-separated directory inside the artifact; '' for the root. */
  dest: string;
}

/** What pack, build and diff read: one path, or several sources merged. */
export type PackInput = string | readonly SourceSpec[];

/** Mode of a directory no single source owns (a DEST's parents, a directory several sources share). */
const SHARED_DIRECTORY_MODE = 0o755;

/**
 * `SRC[:DEST]`. The colon rule: an argument that names an existing file or directory as a whole is the source (a
 * path may contain a colon); otherwise it is split at its LAST colon, and what follows must be a relative path
 * inside the artifact (no leading '/', no '..', no backslash), so a Windows path such as `C:\deploy` is never cut.
 */
export function parseSourceSpec(spec: string, cwd: string): SourceSpec {
  const colon = spec.lastIndexOf(':');
  if (colon <= 0 || exists(resolve(cwd, spec))) return { path: spec, dest: '' };
  const path = spec.slice(0, colon);
  const dest = normalizeDest(spec.slice(colon + 1), spec);
  return { path, dest };
}

/** DEST as the artifact names it: no './', no trailing '/', '' for the root; refused when an artifact cannot hold it. */
function normalizeDest(raw: string, spec: string): string {
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) {
    throw usageError('SOURCE_DEST_INVALID', `'${spec}': the destination '${raw}' must be a relative path inside the artifact`,
      'Write -f SRC:DEST with DEST like apps/web (no leading /).');
  }
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  const dest = parts.join('/');
  const problem = dest === '' ? undefined : entryNameProblem(dest, 'directory');
  if (problem !== undefined) {
    throw usageError('SOURCE_DEST_INVALID', `'${clipName(spec)}': the destination ${problem}`, 'Write -f SRC:DEST with DEST like apps/web.');
  }
  return dest;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The input with each path made absolute against `cwd` and checked to exist (naming the path as it was given). */
export async function absoluteInput(input: PackInput, cwd: string): Promise<PackInput> {
  const absolute = async (given: string): Promise<string> => {
    const abs = resolve(cwd, given);
    await stat(abs).catch(() => {
      throw pathNotFound(given);
    });
    return abs;
  };
  if (typeof input === 'string') return absolute(input);
  return Promise.all(input.map(async (source) => ({ path: await absolute(source.path), dest: source.dest })));
}

/** A single root source is packed as a plain path (same bytes as before sources existed). */
export function asSinglePath(input: PackInput): string | undefined {
  if (typeof input === 'string') return input;
  return input.length === 1 && input[0]!.dest === '' ? input[0]!.path : undefined;
}

/** How a message names the input. */
export function describeInput(input: PackInput): string {
  return typeof input === 'string' ? input : input.map(specText).join(', ');
}

function specText(source: SourceSpec): string {
  return source.dest === '' ? source.path : `${source.path}:${source.dest}`;
}

/** The entries of the input in archive order: the walk of one path, or the merged walk of several sources. */
export function walkInput(input: PackInput, options: WalkOptions): AsyncGenerator<WalkEntry> {
  const single = asSinglePath(input);
  if (single !== undefined) return walkTree(single, options);
  return walkSources(input as readonly SourceSpec[], options);
}

interface Claim {
  entry: WalkEntry;
  /** Which source put it there ('' for a parent of a DEST). */
  owner: string;
  shared: boolean;
}

async function* walkSources(sources: readonly SourceSpec[], options: WalkOptions): AsyncGenerator<WalkEntry> {
  if (sources.length === 0) throw usageError('PATH_MISSING', 'no source to pack', 'Pass -f PATH.');
  const claims = new Map<string, Claim>();
  const claimDirectory = (rel: string, owner: string, entry?: WalkEntry): void => {
    const held = claims.get(rel);
    if (held === undefined) {
      claims.set(rel, { entry: entry ?? { rel, source: '', type: 'directory', mode: SHARED_DIRECTORY_MODE, size: 0 }, owner, shared: entry === undefined });
    } else if (held.entry.type === 'directory') {
      held.shared = true;
    } else {
      throw conflict(rel, held.owner, owner);
    }
  };
  for (const source of sources) {
    const owner = specText(source);
    const parts = source.dest === '' ? [] : source.dest.split('/');
    claimDirectory('', '');
    for (let i = 1; i < parts.length; i++) claimDirectory(parts.slice(0, i).join('/'), '');
    const isFile = statSafe(source.path);
    for await (const entry of walkTree(source.path, options)) {
      // A file source's root is the staging directory Flux would make: it is DEST itself here, not an entry.
      const rel = join(source.dest, entry.rel);
      if (source.dest !== '' && entry.rel !== '') checkMergedName(rel, entry.type);
      if (entry.type === 'directory') {
        claimDirectory(rel, owner, entry.rel === '' && isFile ? undefined : { ...entry, rel });
        continue;
      }
      const held = claims.get(rel);
      if (held !== undefined) throw conflict(rel, held.owner, owner);
      claims.set(rel, { entry: { ...entry, rel }, owner, shared: false });
    }
  }
  const ordered = sortByBytes([...claims.values()], (claim) => walkOrderKey(claim.entry.rel));
  for (const claim of ordered) {
    yield claim.shared && claim.entry.type === 'directory' ? { ...claim.entry, source: '', mode: SHARED_DIRECTORY_MODE } : claim.entry;
  }
}

/** A name valid inside its source may be too long once placed under DEST. */
function checkMergedName(rel: string, type: 'file' | 'directory'): void {
  const problem = entryNameProblem(rel, type);
  if (problem !== undefined) throw usageError('PATH_NAME_INVALID', `cannot pack '${clipName(rel)}': the path ${problem}`, 'Choose a shorter destination.');
}

function statSafe(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false; // walkTree reports the missing path in its own words
  }
}

function join(dest: string, rel: string): string {
  if (dest === '') return rel;
  return rel === '' ? dest : `${dest}/${rel}`;
}

function conflict(rel: string, first: string, second: string): Error {
  const by = first === '' ? `a parent directory of another source's destination` : `'-f ${first}'`;
  return usageError('SOURCE_CONFLICT', `'-f ${second}' and ${by} both put '${clipName(rel || '.')}' in the artifact`,
    'Give one of them another destination (-f SRC:DEST), or leave the file out with an ignore rule.');
}

/**
 * Go's walk order over full paths is component by component, each compared by its UTF-8 bytes, a parent before
 * its children (so `a/b` sorts before `a-c`, as walk.ts explains): the byte order of the paths with each `/` as
 * NUL, the one byte below every byte a name can hold.
 */
function walkOrderKey(rel: string): string {
  return rel.replaceAll('/', '\0');
}
