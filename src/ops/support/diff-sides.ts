import { readFile } from 'node:fs/promises';
import { listLocalFiles } from '../../artifact/pack.js';
import { selectContentLayer } from '../../artifact/manifest.js';
import { readArchiveEntries, type ArchiveEntry } from '../../artifact/archive-entries.js';
import { absoluteInput, describeInput, type PackInput } from '../../artifact/sources.js';
import type { WalkOptions } from '../../artifact/walk.js';
import type { FileEntry } from '../../diff/compare.js';
import type { Descriptor, Repository } from '../../oci/types.js';
import { formatReference, type ArtifactReference } from '../../ref/reference.js';
import { fetchArtifact } from './fetch-artifact.js';

/** One side of a diff: its files and a way to read a file's bytes when a text or semantic diff needs them. */
export interface DiffSide {
  info: { reference?: string; digest?: string; layer?: string; path?: string; missing?: boolean };
  files: FileEntry[];
  /** Bytes of `path`, or undefined when they were not kept (too large). */
  read(path: string): Promise<Buffer | undefined>;
  /**
   * Make `read` answer for these paths, of those `patchContent` wanted (other such paths may be let go): an artifact
   * whose wanted content outgrew HELD_CONTENT_BYTES while it was listed reads its layer again for just them.
   */
  hold?(paths: readonly string[]): Promise<void>;
}

/**
 * Bytes of file content an artifact side holds for patches. A large artifact is listed holding none of it (only
 * hashes), and then only the changed files are read back, at most this much at a time: two 256 MiB artifacts are
 * never held in memory side by side.
 */
export const HELD_CONTENT_BYTES = 8 * 1024 * 1024;

export interface ArtifactSideOptions {
  /** Content always held (a semantic diff parses every YAML file, changed or not). */
  keepContent: (path: string, size: number) => boolean;
  /** Content held while it fits in `heldBytes`; past that, read back by `hold` for the paths asked for. */
  patchContent?: (path: string, size: number) => boolean;
  /** Default HELD_CONTENT_BYTES. */
  heldBytes?: number;
  maxSize?: number;
  signal: AbortSignal;
}

/** The artifact's manifest and content layer, fetched before any content so identical layers can skip the download. */
export interface ResolvedSide {
  ref: ArtifactReference;
  digest: string;
  layer: Descriptor;
}

export async function resolveArtifactSide(repo: Repository, ref: ArtifactReference, signal: AbortSignal): Promise<ResolvedSide> {
  const artifact = await fetchArtifact(repo, ref, signal);
  return { ref, digest: artifact.descriptor.digest, layer: selectContentLayer(artifact.manifest) };
}

export function artifactInfo(side: ResolvedSide): DiffSide['info'] {
  return { reference: formatReference(side.ref), digest: side.digest, layer: side.layer.digest };
}

/**
 * Files of an artifact's content layer, read through the one tar reader (which strips `./`, tolerates missing
 * directory entries and refuses unsafe names), so archives from any tool compare by content alone.
 * Only regular files take part: directories carry nothing, and symlinks are dropped on extraction, like Flux.
 */
export async function loadArtifactSide(repo: Repository, side: ResolvedSide, options: ArtifactSideOptions): Promise<DiffSide> {
  const budget = options.heldBytes ?? HELD_CONTENT_BYTES;
  const patchContent = options.patchContent ?? (() => false);
  let held = 0;
  let overflowed = false;
  const keepContent = (path: string, size: number): boolean => {
    if (options.keepContent(path, size)) return true;
    if (overflowed || !patchContent(path, size)) return false;
    overflowed = held + size > budget;
    held += size;
    return !overflowed;
  };
  const files: FileEntry[] = [];
  const contents = new Map<string, Buffer>();
  for (const entry of await readEntries(repo, side, keepContent, options)) {
    if (entry.type !== 'file' || entry.sha256 === undefined) continue;
    files.push({ path: entry.path, mode: entry.mode, size: entry.size, sha256: entry.sha256 });
    // Past the budget, patch content already read is let go too: `hold` reads back what is asked for.
    if (entry.content !== undefined && (!overflowed || options.keepContent(entry.path, entry.size))) contents.set(entry.path, entry.content);
  }
  const sizes = new Map(files.map((f) => [f.path, f.size]));
  /** Patch content read back by the last `hold`, let go by the next. */
  let readBack: string[] = [];
  return {
    info: artifactInfo(side),
    files,
    read: async (path) => contents.get(path),
    hold: async (paths) => {
      if (!overflowed) return;
      for (const path of readBack) contents.delete(path);
      const wanted = new Set(paths.filter((path) => !contents.has(path) && patchContent(path, sizes.get(path) ?? Infinity)));
      readBack = [...wanted];
      if (wanted.size === 0) return;
      for (const entry of await readEntries(repo, side, (path) => wanted.has(path), options)) {
        if (entry.content !== undefined) contents.set(entry.path, entry.content);
      }
    },
  };
}

/** One pass over the content layer (the blob stream is verified against its digest). */
async function readEntries(repo: Repository, side: ResolvedSide, keepContent: (path: string, size: number) => boolean, options: ArtifactSideOptions): Promise<ArchiveEntry[]> {
  const stream = await repo.openBlob(side.layer, { signal: options.signal });
  return readArchiveEntries(stream, { maxSize: options.maxSize, signal: options.signal, keepContent });
}

/**
 * The files a push of `path` would pack (same walk and ignore rules), read from disk on demand: only those
 * `keepContent` wants, the same rule the artifact side keeps bytes by.
 */
export async function loadLocalSide(
  path: PackInput,
  options: WalkOptions & { cwd?: string; keepContent: (path: string, size: number) => boolean },
): Promise<DiffSide> {
  const onDisk = new Map<string, string>();
  const files = await listLocalFiles(await absoluteInput(path, options.cwd ?? process.cwd()), options, onDisk);
  const sizes = new Map(files.map((f) => [f.path, f.size]));
  return {
    info: { path: describeInput(path) },
    files,
    read: async (rel) => {
      const size = sizes.get(rel);
      if (size === undefined || !options.keepContent(rel, size)) return undefined;
      return readFile(onDisk.get(rel) as string);
    },
  };
}

