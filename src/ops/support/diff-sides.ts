import { readFile } from 'node:fs/promises';
import { listLocalFiles } from '../../artifact/pack.js';
import { selectContentLayer } from '../../artifact/manifest.js';
import { readArchiveEntries } from '../../artifact/archive-entries.js';
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
export async function loadArtifactSide(
  repo: Repository,
  side: ResolvedSide,
  options: { keepContent: (path: string, size: number) => boolean; maxSize?: number; signal: AbortSignal },
): Promise<DiffSide> {
  const stream = await repo.openBlob(side.layer, { signal: options.signal });
  const entries = await readArchiveEntries(stream, { maxSize: options.maxSize, signal: options.signal, keepContent: options.keepContent });
  const contents = new Map<string, Buffer>();
  const files: FileEntry[] = [];
  for (const entry of entries) {
    if (entry.type !== 'file' || entry.sha256 === undefined) continue;
    files.push({ path: entry.path, mode: entry.mode, size: entry.size, sha256: entry.sha256 });
    if (entry.content !== undefined) contents.set(entry.path, entry.content);
  }
  return {
    info: artifactInfo(side),
    files,
    read: async (path) => contents.get(path),
  };
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

