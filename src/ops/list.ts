import { Code, isOciError, usageError } from '../errors.js';
import { artifactMetadata, parseManifest } from '../artifact/manifest.js';
import { MANIFEST_MEDIA_TYPES } from '../oci/mediatypes.js';
import { openRepository } from './support/open-repository.js';
import type { Repository } from '../oci/types.js';
import { formatReference, repositoryName, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { OpContext } from './support/context.js';
import { createLimiter } from './support/limit.js';
import { explainNotFound } from './support/not-found.js';
import { selectTags, sortBySemver, type TagFilterOptions } from './support/tag-filter.js';

export interface ListOptions extends TagFilterOptions {
  /** The repository; a tag or digest in it is refused. */
  ref: ArtifactReference;
  /** Manifests fetched at once (default 8). */
  concurrency?: number;
  /** Tags per page of the tag list (`?n=`); the registry's default when unset. */
  pageSize?: number;
  /** At most this many artifacts, the first in the chosen order. */
  limit?: number;
  /**
   * `semver`: versions newest first, other tags after them. `created`: by the manifest's
   * org.opencontainers.image.created annotation, newest first (tags without it last): every selected tag's manifest
   * is read before the limit applies, so at most MAX_CREATED_SORT tags are sorted this way.
   */
  sort?: 'semver' | 'created';
}

/** `--sort created` reads one manifest per tag: beyond this many, narrow the tags with the filters first. */
export const MAX_CREATED_SORT = 1000;

/** One listed artifact; the JSON shape of `list -o json`. */
export interface ListedArtifact {
  /** `host/repo:tag`, as Flux prints it. */
  url: string;
  tag: string;
  digest: string;
  mediaType: string;
  source?: string;
  revision?: string;
  created?: string;
}

export interface ListResult {
  repository: string;
  artifacts: ListedArtifact[];
  /** Tags in the repository before filtering. */
  totalTags: number;
}

export const DEFAULT_LIST_CONCURRENCY = 8;

/**
 * List the artifacts of a repository. Filters are applied to the tag list first, then each remaining tag's manifest
 * is fetched exactly once (its digest comes from the same response), a bounded number at a time, keeping the
 * order `selectTags` chose.
 */
export async function list(options: ListOptions, ctx: OpContext): Promise<ListResult> {
  if (options.ref.tag !== undefined || options.ref.digest !== undefined) {
    throw usageError('REFERENCE_INVALID', `list takes a repository, not a tag or digest: ${formatReference(options.ref)}`,
      `write it as ${options.ref.kind === 'registry' ? `oci://${repositoryName(options.ref)}` : repositoryName(options.ref)}`);
  }
  // Check the filters before any request.
  selectTags([], options);
  const repo = await openRepository(options.ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    ctx.onStep?.(`listing tags of ${repo.displayName}`);
    const all = await repo.listTags({ signal: ctx.signal, pageSize: options.pageSize })
      .catch((err: unknown) => Promise.reject(explainNotFound(err, options.ref)));
    const selected = selectTags(all, options);
    if (options.sort === 'created' && selected.length > MAX_CREATED_SORT) {
      throw usageError('FLAG_INVALID', `--sort created reads one manifest per tag, and ${selected.length} tags are selected (at most ${MAX_CREATED_SORT})`,
        'narrow them with --filter-regex or --filter-semver');
    }
    const ordered = options.sort === 'semver' ? sortBySemver(selected) : selected;
    // Without a sort by manifest content, only the manifests shown are read.
    const tags = options.sort === 'created' || options.limit === undefined ? ordered : ordered.slice(0, options.limit);
    ctx.onStep?.(`fetching ${tags.length} ${tags.length === 1 ? 'manifest' : 'manifests'}`);
    const fetched = await fetchAll(tags, options.concurrency ?? DEFAULT_LIST_CONCURRENCY, (tag, signal) => describeTag(repo, options.ref, tag, signal, ctx), ctx.signal);
    let artifacts = fetched.filter((a): a is ListedArtifact => a !== undefined);
    if (options.sort === 'created') artifacts = byCreated(artifacts).slice(0, options.limit);
    return { repository: repositoryName(options.ref), artifacts, totalTags: all.length };
  } finally {
    await repo.close();
  }
}

/** Newest `created` first (a stable sort: equal times keep the tag order); artifacts without a readable time last. */
function byCreated(artifacts: ListedArtifact[]): ListedArtifact[] {
  const time = (a: ListedArtifact): number => {
    const t = a.created === undefined ? Number.NaN : Date.parse(a.created);
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  return [...artifacts].sort((a, b) => time(b) - time(a) || 0);
}

/** Bounded, order-keeping fan-out; the first failure cancels the requests still waiting or in flight. */
async function fetchAll<R>(tags: string[], concurrency: number, fn: (tag: string, signal: AbortSignal) => Promise<R>, outer?: AbortSignal): Promise<R[]> {
  const limit = createLimiter(concurrency);
  const stop = new AbortController();
  const signal = outer === undefined ? stop.signal : AbortSignal.any([outer, stop.signal]);
  return Promise.all(tags.map((tag) => limit(async () => {
    signal.throwIfAborted();
    try {
      return await fn(tag, signal);
    } catch (err) {
      stop.abort(err);
      throw err;
    }
  })));
}

async function describeTag(repo: Repository, ref: ArtifactReference, tag: string, signal: AbortSignal, ctx: OpContext): Promise<ListedArtifact | undefined> {
  let manifest;
  try {
    manifest = await repo.getManifest(tag, { signal, accept: MANIFEST_MEDIA_TYPES });
  } catch (err) {
    // Deleted between the tag list and this request: not an error of the listing.
    if (isOciError(err, Code.ManifestUnknown)) {
      ctx.onNotice?.(`tag ${tag} disappeared while listing`);
      return undefined;
    }
    throw err;
  }
  const artifact: ListedArtifact = { url: formatReference(withVersion(ref, { tag })), tag, digest: manifest.digest, mediaType: manifest.mediaType };
  let metadata;
  try {
    metadata = artifactMetadata(parseManifest(manifest.bytes, manifest.mediaType));
  } catch {
    return artifact; // not something we can read annotations from; still listed by digest
  }
  if (metadata.source !== undefined) artifact.source = metadata.source;
  if (metadata.revision !== undefined) artifact.revision = metadata.revision;
  if (metadata.created !== undefined) artifact.created = metadata.created;
  return artifact;
}
