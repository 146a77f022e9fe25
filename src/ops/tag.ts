import { OciError, usageError } from '../errors.js';
import { MANIFEST_MEDIA_TYPES } from '../oci/mediatypes.js';
import { openRepository } from './support/open-repository.js';
import type { FetchedManifest, Repository } from '../oci/types.js';
import {
  checkTag, formatReference, manifestReference, repositoryName, withVersion, type ArtifactReference,
} from '../ref/reference.js';
import type { OpContext } from './support/context.js';
import { GraphCopier, mountSource, type BlobCounts } from './support/copy-graph.js';
import { explainNotFound } from './support/not-found.js';
import { selectLatest } from './support/select-release.js';
import type { TagFilterOptions } from './support/tag-filter.js';

export interface TagOptions {
  /** The artifact to tag, by tag or digest. */
  source: ArtifactReference;
  /** New tags (already split from Flux-style comma lists). */
  tags: string[];
  /** Another repository to tag into (its tag, if any, is one more new tag); blobs are mounted or copied there. */
  to?: ArtifactReference;
  /** `--latest`: the source is a repository and the tag to promote is the first `list` shows with these filters. */
  latest?: TagFilterOptions;
}

/** One resulting reference; the JSON shape of `tag -o json` (one per tag). */
export interface TaggedReference {
  /** `oci://host/repo:tag@sha256:…` */
  url: string;
  repository: string;
  tag: string;
  digest: string;
}

export interface TagResult {
  source: string;
  digest: string;
  mediaType: string;
  tagged: TaggedReference[];
  /** Blob transfers of a cross-repository tag; undefined within one repository (nothing moves). */
  blobs?: BlobCounts;
}

/**
 * Re-tag an artifact by storing its exact manifest bytes under each new tag: never re-encoded, so the digest stays
 * the same. Into another repository, the content goes first (mounted on the same registry, else copied).
 */
export async function tag(options: TagOptions, ctx: OpContext): Promise<TagResult> {
  const target = options.to ?? options.source;
  if (options.to?.digest !== undefined) {
    throw usageError('REFERENCE_INVALID', `--to names a digest (${formatReference(options.to)}); it takes a repository`, 'write it as oci://host/repo');
  }
  const tags = [...new Set([...options.tags, ...(options.to?.tag !== undefined ? [options.to.tag] : [])].map(checkTag))];
  if (tags.length === 0) throw usageError('TAG_MISSING', 'no tag to add', 'pass --tag <tag> (repeatable, or a comma-separated list)');
  const sameRepository = options.to === undefined || sameRepo(options.source, options.to);

  const source = await openRepository(options.source, { ...ctx.repositoryOptions, signal: ctx.signal });
  const destination = sameRepository ? source : await openRepository(target, { ...ctx.repositoryOptions, create: true, signal: ctx.signal });
  try {
    const picked = options.latest === undefined ? options.source : await selectLatest(source, options.source, options.latest, ctx.signal);
    ctx.onStep?.(`fetching ${formatReference(picked)}`);
    const manifest = await source.getManifest(manifestReference(picked), { signal: ctx.signal, accept: MANIFEST_MEDIA_TYPES })
      .catch((err: unknown) => Promise.reject(explainNotFound(err, picked)));
    let blobs: BlobCounts | undefined;
    let remaining = tags;
    if (!sameRepository) {
      const copier = new GraphCopier(source, destination, {
        signal: ctx.signal,
        onProgress: ctx.onProgress,
        mountFrom: mountSource(options.source, target),
      });
      ctx.onStep?.(`copying content to ${destination.displayName}`);
      await copier.copyManifest(manifest, tags[0] as string);
      blobs = copier.blobs;
      remaining = tags.slice(1);
    }
    for (const name of remaining) {
      ctx.onStep?.(`tagging ${name}`);
      await putUnchanged(destination, name, manifest, ctx.signal);
    }
    await destination.commit?.();
    return {
      source: formatReference(picked),
      digest: manifest.digest,
      mediaType: manifest.mediaType,
      tagged: tags.map((name) => ({
        url: formatReference(withVersion(target, { tag: name, digest: manifest.digest })),
        repository: repositoryName(target),
        tag: name,
        digest: manifest.digest,
      })),
      ...(blobs === undefined ? {} : { blobs }),
    };
  } finally {
    await source.close();
    if (destination !== source) await destination.close();
  }
}

async function putUnchanged(repo: Repository, name: string, manifest: FetchedManifest, signal: AbortSignal): Promise<void> {
  const digest = await repo.putManifest(name, manifest.bytes, manifest.mediaType, { signal });
  if (digest !== manifest.digest) {
    throw new OciError('DIGEST_CHANGED', `${repo.displayName} stored tag ${name} as ${digest}, not ${manifest.digest}`);
  }
}

function sameRepo(a: ArtifactReference, b: ArtifactReference): boolean {
  if (a.kind === 'registry' && b.kind === 'registry') return a.endpoint === b.endpoint && a.repository === b.repository;
  return a.kind === b.kind && repositoryName(a) === repositoryName(b);
}
