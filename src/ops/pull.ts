import { mkdir, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { isGzipTarLayer, selectContentLayer } from '../artifact/manifest.js';
import { checkOutputDirectory } from '../artifact/output-dir.js';
import { extractArchive } from '../artifact/unpack.js';
import { writeFileAtomic } from '../atomic-write.js';
import { Annotation } from '../oci/mediatypes.js';
import type { Descriptor, Repository } from '../oci/types.js';
import { formatReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { OpContext } from './support/context.js';
import { openRepository } from './support/open-repository.js';
import { fetchArtifact } from './support/fetch-artifact.js';

export interface PullOptions {
  ref: ArtifactReference;
  output: string;
  layerMediaType?: string;
  layerIndex?: number;
  /** Uncompressed size cap in bytes; 0 for none. */
  maxSize?: number;
  /** Runs after the manifest is known and before anything is written (on the open repository); throws to refuse. */
  beforeExtract?: (artifact: { descriptor: Descriptor; repo: Repository }) => Promise<void>;
}

export interface PullResult {
  url: string;
  digest: string;
  source?: string;
  revision?: string;
  created?: string;
  output: string;
  layer: Descriptor;
  /** 'extracted' for tar+gzip layers, 'file' when the layer was written as one file. */
  mode: 'extracted' | 'file';
  files: number;
  bytes: number;
  skipped: string[];
}

export async function pull(options: PullOptions, ctx: OpContext): Promise<PullResult> {
  const output = resolve(ctx.cwd ?? process.cwd(), options.output);
  // Before any network: a file, a dangling link or a missing parent is the user's to fix.
  const existed = (await checkOutputDirectory(output, options.output)) === 'exists';
  const repo = await openRepository(options.ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    ctx.onStep?.(`fetching ${formatReference(options.ref)}`);
    const artifact = await fetchArtifact(repo, options.ref, ctx.signal);
    const layer = selectContentLayer(artifact.manifest, { mediaType: options.layerMediaType, index: options.layerIndex });
    await options.beforeExtract?.({ descriptor: artifact.descriptor, repo });

    // The default choice is always an archive; a layer picked explicitly that is not one is written as a file.
    const extract = isGzipTarLayer(layer.mediaType);
    const base = {
      url: formatReference(withVersion(options.ref, { digest: artifact.descriptor.digest })),
      digest: artifact.descriptor.digest,
      source: artifact.metadata.source,
      revision: artifact.metadata.revision,
      created: artifact.metadata.created,
      output,
      layer,
    };
    ctx.onStep?.(extract ? `extracting into ${options.output}` : `writing layer into ${options.output}`);
    // Open the blob right before consuming it: a short blob can fail its digest check at once.
    const blob = await repo.openBlob(layer, { signal: ctx.signal, onProgress: ctx.onProgress });
    if (extract) {
      const result = await extractArchive(blob, output, { maxSize: options.maxSize, signal: ctx.signal });
      return { ...base, mode: 'extracted', files: result.files, bytes: result.bytes, skipped: result.skipped };
    }
    const file = await writeLayerFile(blob, output, layer, existed, ctx.signal);
    return { ...base, mode: 'file', files: 1, bytes: layer.size, skipped: [], output: file };
  } finally {
    await repo.close();
  }
}

/** Write a non-archive layer as one file in the output directory: temp name, then rename once verified. */
async function writeLayerFile(blob: NodeJS.ReadableStream, output: string, layer: Descriptor, outputExisted: boolean, signal: AbortSignal): Promise<string> {
  const name = usableTitle(layer.annotations?.[Annotation.Title]) ?? layer.digest.replace(':', '-');
  const target = join(output, name);
  try {
    await mkdir(output, { recursive: true });
    await writeFileAtomic(target, blob, { mode: 0o644, signal });
  } catch (err) {
    if (!outputExisted) await rm(output, { recursive: true, force: true });
    throw err;
  }
  return target;
}

/**
 * The layer's title as a file name when it is one plain name the filesystem takes: no directories, no NUL, and
 * short enough for the temp name src/atomic-write.ts puts beside it (`.<name>.<12 hex>.tmp`) to fit in 255 bytes. Else the digest names it.
 */
function usableTitle(title: string | undefined): string | undefined {
  if (title === undefined || title === '' || title === '.' || title === '..') return undefined;
  if (basename(title) !== title || title.includes('\0') || Buffer.byteLength(title) > 200) return undefined;
  return title;
}
