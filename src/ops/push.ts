import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OciError, usageError } from '../errors.js';
import { buildAnnotations, buildFluxConfig, buildFluxManifest } from '../artifact/manifest.js';
import { packArtifact, type PackOptions } from '../artifact/pack.js';
import { absoluteInput, describeInput, type PackInput } from '../artifact/sources.js';
import { openRepository } from './support/open-repository.js';
import { Annotation, MediaType } from '../oci/mediatypes.js';
import type { Descriptor, PushBlobResult, Repository } from '../oci/types.js';
import { digestOf } from '../ref/digest.js';
import { repositoryName, tagOf, withVersion, formatReference, type ArtifactReference } from '../ref/reference.js';
import type { OpContext } from './support/context.js';
import { contentBehindTag, type ContentBehindTag } from './support/content-behind-tag.js';
import { checkWhilePacking, failPackingOn, type EarlyCheck } from './support/early-check.js';
import { resolveProvenance } from './support/provenance.js';
import { chosenTypesRefused, mediaTypeRefusal, STANDARD_TYPES } from './support/media-type-fallback.js';
import { stageStdin } from './support/stdin.js';

export interface PushOptions extends Omit<PackOptions, 'signal'> {
  ref: ArtifactReference;
  /**
   * Directory, file, or '-' for manifests on stdin (packed as the single file `stdin.yaml`, as Flux stages it); or
   * several sources, each placed under its destination (artifact/sources.ts).
   */
  path: PackInput;
  source?: string;
  revision?: string;
  annotations?: Record<string, string>;
  reproducible?: boolean;
  /** Content layers up to this size are held in memory and HEAD-checked before upload; larger ones stream. */
  inMemoryLimit?: number;
  stdin?: NodeJS.ReadableStream;
  /**
   * Push only when the content layer differs from the one behind the tag (or the tag does not exist). Only the
   * content counts: the created time and the source/revision annotations differ on every push by design, and a
   * new commit that leaves the content as it was must not give Flux a new digest to reconcile.
   */
  ifChanged?: boolean;
  /** More tags for the pushed manifest (checked tags); none are written when ifChanged skips the push. */
  extraTags?: string[];
  /**
   * Media types for the config and the content layer (default: Flux's). Without them, a registry that refuses
   * Flux's types gets one more manifest PUT with the standard OCI types (support/media-type-fallback.ts); a type
   * chosen here is kept, and its refusal is the push's error.
   */
  configMediaType?: string;
  layerMediaType?: string;
}

export interface PushResult {
  /** False when `ifChanged` found the same content behind the tag: nothing was written, `digest` is the tag's. */
  pushed: boolean;
  /** `oci://host/repo@sha256:…` (Flux's `url`). */
  url: string;
  repository: string;
  tag: string;
  digest: string;
  reference: string;
  source?: string;
  revision?: string;
  layer: Descriptor;
  config: Descriptor;
  /** The manifest written (absent when nothing was pushed): what `push --sign` signs without fetching it again. */
  manifest?: Descriptor;
  /** What happened to each blob, by digest. */
  blobs: Record<string, PushBlobResult>;
}

/**
 * 16 MiB of gzip'd YAML is ~64 MiB of manifests: typical artifacts are far below and re-push at HEADs only. When
 * the content turns out larger, the held head is handed to the upload, which sends it as its first chunks and
 * then refills the same memory (two 8 MiB chunks): the head costs a large push nothing beyond the upload's own.
 */
const DEFAULT_IN_MEMORY_LIMIT = 16 * 1024 * 1024;

export async function push(options: PushOptions, ctx: OpContext): Promise<PushResult> {
  const tag = tagOf(options.ref);
  if (options.ref.digest !== undefined && options.ref.tag === undefined) {
    throw usageError('REFERENCE_INVALID', `cannot push to a digest reference ${formatReference(options.ref)}`, 'give a tag, e.g. oci://host/repo:v1');
  }
  const fromStdin = options.path === '-';
  const cwd = ctx.cwd ?? process.cwd();
  const input = fromStdin ? undefined : await absoluteInput(options.path, cwd);
  const absPath = input === undefined ? undefined : typeof input === 'string' ? input : input[0]!.path;

  const provenance = await resolveProvenance(
    { source: options.source, revision: options.revision },
    absPath === undefined ? cwd : await dirOf(absPath),
    ctx.env ?? process.env,
  );
  if (!provenance.source || !provenance.revision) {
    throw usageError('PROVENANCE_MISSING',
      `--${provenance.source ? 'revision' : 'source'} is required and could not be taken from git or the CI environment`,
      "pass --source <url> and --revision '<branch>@sha1:<commit>'");
  }
  if (provenance.origin !== 'flags' && (!options.source || !options.revision)) {
    ctx.onNotice?.(`source ${provenance.source} and revision ${provenance.revision} taken from ${provenance.origin}`);
  }
  const annotations = buildAnnotations({
    source: provenance.source,
    revision: provenance.revision,
    reproducible: options.reproducible ?? false,
    created: new Date(),
    extra: options.annotations ?? {},
  });

  const staged = fromStdin ? await stageStdin(options.stdin ?? process.stdin) : undefined;
  const repo = await openRepository(options.ref, { ...ctx.repositoryOptions, create: true, signal: ctx.signal });
  try {
    ctx.onStep?.(`packing ${fromStdin ? 'stdin' : describeInput(options.path)}`);
    // The tag's manifest is fetched while packing, so a skipped push costs that one request.
    const behind = options.ifChanged ? contentBehindTag(repo, tag, ctx.signal) : undefined;
    const packing = new AbortController();
    // With ifChanged the manifest GET, sent at once, is the early check: it reaches the host with the credential.
    const early = behind !== undefined ? failPackingOn(behind, packing) : checkWhilePacking(repo, ctx.signal, packing);
    const packCtx = { ...ctx, signal: ctx.signal === undefined ? packing.signal : AbortSignal.any([ctx.signal, packing.signal]) };
    const uploaded = await uploadContent(repo, options, staged?.path ?? (input as PackInput), packCtx, early, behind)
      .catch(async (err: unknown) => {
        await early.settle(); // a failed check is the cause of an aborted pack: report it instead
        throw err;
      });
    if ('unchanged' in uploaded) {
      const existing = uploaded.unchanged;
      return {
        pushed: false,
        url: formatReference(withVersion(options.ref, { digest: existing.digest })),
        repository: repositoryName(options.ref),
        tag,
        digest: existing.digest,
        reference: formatReference(withVersion(options.ref, { tag, digest: existing.digest })),
        source: existing.annotations[Annotation.Source],
        revision: existing.annotations[Annotation.Revision],
        layer: existing.layer,
        config: existing.config,
        manifest: existing.manifest,
        blobs: {},
      };
    }
    const { blobs } = uploaded;
    let { layer, config } = uploaded;
    let manifest = buildFluxManifest({ config, layer, annotations });
    ctx.onStep?.(`writing manifest ${tag}`);
    let digest: string;
    try {
      digest = await repo.putManifest(tag, manifest, MediaType.OciManifest, { signal: ctx.signal });
    } catch (err) {
      const refusal = mediaTypeRefusal(err);
      if (refusal === undefined) throw err;
      if (options.configMediaType !== undefined || options.layerMediaType !== undefined) throw chosenTypesRefused(err as OciError, refusal);
      // The blobs are stored by digest whatever their type: only the manifest changes.
      ctx.onNotice?.(`the registry refused Flux's media types (${refusal}); pushed again with the standard OCI types ${STANDARD_TYPES.config} and ${STANDARD_TYPES.layer}`);
      config = { ...config, mediaType: STANDARD_TYPES.config };
      layer = { ...layer, mediaType: STANDARD_TYPES.layer };
      manifest = buildFluxManifest({ config, layer, annotations });
      digest = await repo.putManifest(tag, manifest, MediaType.OciManifest, { signal: ctx.signal });
    }
    // The same bytes under each extra tag: the same digest, no GET back.
    await Promise.all((options.extraTags ?? []).map((extra) => repo.putManifest(extra, manifest, MediaType.OciManifest, { signal: ctx.signal })));
    await repo.commit?.();
    const pinned = withVersion(options.ref, { digest });
    return {
      pushed: true,
      url: formatReference(pinned),
      repository: repositoryName(options.ref),
      tag,
      digest,
      reference: formatReference(withVersion(options.ref, { tag, digest })),
      source: provenance.source,
      revision: provenance.revision,
      layer,
      config,
      manifest: { mediaType: MediaType.OciManifest, digest, size: manifest.length },
      blobs,
    };
  } finally {
    await repo.close();
    await staged?.remove();
  }
}

async function dirOf(path: string): Promise<string> {
  const info = await stat(path);
  return info.isDirectory() ? path : dirname(path);
}

/** The Flux config blob for a content layer and its descriptor (a pure function of the uncompressed tar). */
function fluxConfig(diffId: string, mediaType: string): { bytes: Buffer; config: Descriptor } {
  const bytes = buildFluxConfig(diffId);
  return { bytes, config: { mediaType, digest: digestOf(bytes), size: bytes.length } };
}

/**
 * Pack and upload the content layer and the config. Small content is packed into memory first so its digest is
 * known and an unchanged re-push costs only HEAD requests; content past the limit streams in one pass.
 */
async function uploadContent(
  repo: Repository,
  options: PushOptions,
  input: PackInput,
  ctx: OpContext,
  early: EarlyCheck,
  behind: Promise<ContentBehindTag | undefined> | undefined,
): Promise<{ layer: Descriptor; blobs: Record<string, PushBlobResult>; config: Descriptor } | { unchanged: ContentBehindTag }> {
  const limit = options.inMemoryLimit ?? DEFAULT_IN_MEMORY_LIMIT;
  const blobs: Record<string, PushBlobResult> = {};
  const transfer = { signal: ctx.signal, onProgress: ctx.onProgress };
  const layerType = options.layerMediaType ?? MediaType.FluxContent;
  const configType = options.configMediaType ?? MediaType.FluxConfig;

  const onPack = ctx.onProgress;
  const pack = () => packArtifact(input, {
    ...options,
    signal: ctx.signal,
    onProgress: onPack && ((p) => onPack({ direction: 'pack', label: 'packing', bytes: p.bytes, total: p.totalBytes, files: p.files, totalFiles: p.totalFiles, done: p.done })),
  });
  let packed = pack();
  let diffId = packed.summary.then((s) => s.diffId);
  diffId.catch(() => undefined); // observed below; avoid an unhandled rejection while the stream fails first
  let { head, rest } = await readUpTo(packed.stream, limit);
  await early.settle(); // packed (or streaming starts): the upload's own requests reach the registry from here

  if (behind !== undefined && rest !== undefined) {
    // Too large to hold: hash the rest without uploading; only changed content is packed again to stream it.
    const digest = await digestOfRest(head, rest);
    const existing = await behind;
    if (existing?.layer.digest === digest) return { unchanged: existing };
    head = Buffer.alloc(0); // not held while the second pass fills its own
    packed = pack();
    diffId = packed.summary.then((s) => s.diffId);
    diffId.catch(() => undefined);
    ({ head, rest } = await readUpTo(packed.stream, limit));
  }

  let layer: Descriptor;
  if (rest === undefined) {
    const bytes = head;
    layer = { mediaType: layerType, digest: digestOf(bytes), size: bytes.length };
    const existing = await behind;
    if (existing?.layer.digest === layer.digest) return { unchanged: existing };
    const { bytes: configBytes, config } = fluxConfig(await diffId, configType);
    ctx.onStep?.('uploading');
    const [layerResult, configResult] = await Promise.all([
      repo.pushBlob(layer, bytes, transfer),
      repo.pushBlob(config, configBytes, { signal: ctx.signal }),
    ]);
    blobs[layer.digest] = layerResult;
    blobs[config.digest] = configResult;
    return { layer, blobs, config };
  }

  ctx.onStep?.('uploading (streaming)');
  const { Readable } = await import('node:stream');
  // The head is handed over: sent first as whole chunks, then reused as the upload's chunk buffers (upload.ts).
  layer = await repo.pushBlobStream(layerType, Readable.from(rest), { ...transfer, head });
  blobs[layer.digest] = 'uploaded';
  const { bytes: configBytes, config } = fluxConfig(await diffId, configType);
  blobs[config.digest] = await repo.pushBlob(config, configBytes, { signal: ctx.signal });
  return { layer, blobs, config };
}

/** The digest of the whole stream: the held head, then the rest read to its end. */
async function digestOfRest(head: Buffer, rest: AsyncIterator<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  hash.update(head);
  for (let next = await rest.next(); !next.done; next = await rest.next()) hash.update(next.value);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Read a stream until it ends or more than `limit` bytes arrived. The head is copied into one buffer as it comes,
 * so the compressor's small pieces die at once (V8 collects dead buffers lazily; see gzip.ts) and the uploader can send the head as whole chunks without copying it again. The
 * buffer is allocated uncleared: pages never written cost no memory. When the limit was passed, `rest` continues
 * the stream, starting with what did not fit.
 */
async function readUpTo(stream: NodeJS.ReadableStream, limit: number): Promise<{ head: Buffer; rest?: AsyncGenerator<Buffer> }> {
  const iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const held = Buffer.allocUnsafeSlow(limit);
  let size = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { head: held.subarray(0, size) };
    const piece = next.value;
    const n = piece.copy(held, size);
    size += n;
    if (n < piece.length) return { head: held, rest: prepend(piece.subarray(n), iterator) };
  }
}

/** `iterator` with `first` before it. */
async function* prepend(first: Buffer, iterator: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
}
