import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { readTar } from './tar-reader.js';

/**
 * Listing an artifact tarball (inspect, diff): every entry with its digest, validated exactly as extraction
 * validates it (tar-reader.ts), and nothing written to disk. Extraction itself is unpack.ts.
 */
export interface ArchiveEntry {
  /** Normalised, no './', no trailing slash. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  /** `sha256:<hex>` of a file's content. */
  sha256?: string;
  /** A file's content, when `keepContent` asked for it. */
  content?: Buffer;
  /** Where a symlink entry points (never followed). */
  linkTarget?: string;
}

export interface ReadEntriesOptions {
  maxSize?: number;
  signal?: AbortSignal;
  /** Return true to keep a file's bytes in `content` (keep it to small files: they are held in memory). */
  keepContent?: (path: string, size: number) => boolean;
}

/** Every entry (the root excepted) with its digest, validated exactly as for extraction; nothing is written. */
export async function readArchiveEntries(source: Readable, options: ReadEntriesOptions = {}): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  await readTar(source, options, async (info, body) => {
    if (info.path === '') return;
    const entry: ArchiveEntry = { path: info.path, type: info.type, mode: info.mode, size: info.size };
    if (info.linkTarget !== undefined) entry.linkTarget = info.linkTarget;
    if (info.type === 'file') {
      const keep = options.keepContent?.(info.path, info.size) ?? false;
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      for await (const chunk of body) {
        hash.update(chunk);
        if (keep) chunks.push(chunk);
      }
      entry.sha256 = `sha256:${hash.digest('hex')}`;
      if (keep) entry.content = Buffer.concat(chunks);
    }
    entries.push(entry);
  });
  return entries;
}
