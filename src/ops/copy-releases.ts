import { OciError, usageError } from '../errors.js';
import { MANIFEST_MEDIA_TYPES } from '../oci/mediatypes.js';
import type { FetchedManifest, Repository } from '../oci/types.js';
import { formatReference, repositoryName, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { VerifyPolicy } from '../signing/index.js';
import type { OpContext } from './support/context.js';
import { copyAttached } from './support/copy-attached.js';
import { GraphCopier, mountSource, type BlobCounts } from './support/copy-graph.js';
import { createLimiter } from './support/limit.js';
import { explainNotFound } from './support/not-found.js';
import { openRepository } from './support/open-repository.js';
import { selectTags, type TagFilterOptions } from './support/tag-filter.js';

/**
 * `copy oci://src/repo oci://dst/repo` with a selection: many releases in one run, as a promotion or mirroring job
 * does it. Tags are chosen as `list` chooses them (tag-filter.ts), then each is compared with the destination:
 * already there with the same digest (in sync), there with another digest and kept (--no-clobber), refused by the
 * signature policy (--verify), or copied. One GraphCopier serves every release, so a blob shared by releases
 * moves once, at most `concurrency` blobs are in flight, and blobs the destination has are skipped (or mounted on
 * the same registry). Signatures, attestations and referrers go along with each release, also one already in sync
 * (something may have been attached since). A dry run writes nothing and reports what a run would copy.
 */
export interface CopyReleasesOptions extends TagFilterOptions {
  /** Repositories: neither names a tag or digest. */
  source: ArtifactReference;
  destination: ArtifactReference;
  /** Only the first N of the selection in `list` order (newest first for a semver range). */
  limit?: number;
  /** Every tag (no filter given): says so explicitly, so a forgotten filter never copies a whole repository. */
  allTags?: boolean;
  /** Never move a tag that exists at the destination with another digest; it is listed as kept. */
  noClobber?: boolean;
  /** Only releases with a signature satisfying this policy (as `verify`) are copied; the others are listed. */
  verify?: VerifyPolicy;
  includeSignatures?: boolean;
  dryRun?: boolean;
  /** Blob transfers in flight at once, across all releases. */
  concurrency?: number;
}

export type ReleaseAction = 'copied' | 'would-copy' | 'in-sync' | 'kept' | 'failed';

/** One selected release; the JSON shape of each entry of `copy -o json` in this mode. */
export interface ReleaseOutcome {
  tag: string;
  action: ReleaseAction;
  /** The source digest. */
  digest: string;
  /** `oci://dst/repo:tag@digest` as it is (or would be) after the run. */
  destination: string;
  /** The digest the destination tag had before, when it had another. */
  previous?: string;
  /** Why a release failed its verification. */
  reason?: string;
  /** Signatures, attestations and referrers carried. */
  signatures?: number;
}

export interface CopyReleasesResult {
  source: string;
  destination: string;
  dryRun: boolean;
  releases: ReleaseOutcome[];
  blobs: BlobCounts;
  /** Tags in the source before selection. */
  totalTags: number;
}

/** Releases handled at once (each fans out into blob transfers bounded by `concurrency`). */
const RELEASES_IN_FLIGHT = 4;

export function selectionGiven(options: Pick<CopyReleasesOptions, 'semver' | 'regex' | 'limit' | 'allTags'>): boolean {
  return options.semver !== undefined || options.regex !== undefined || options.limit !== undefined || options.allTags === true;
}

export async function copyReleases(options: CopyReleasesOptions, ctx: OpContext): Promise<CopyReleasesResult> {
  const { source, destination } = options;
  for (const [side, ref] of [['source', source], ['destination', destination]] as const) {
    if (ref.tag !== undefined || ref.digest !== undefined) {
      throw usageError('REFERENCE_INVALID', `copying a selection of tags takes a repository as the ${side}, not ${formatReference(ref)}`,
        `write it as ${repositoryName(withVersion(ref, {}))}`);
    }
  }
  if (options.allTags === true && (options.semver !== undefined || options.regex !== undefined)) {
    throw usageError('FLAG_CONFLICT', '--all-tags copies every tag; it cannot be combined with --filter-semver or --filter-regex', 'drop one of them');
  }
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) {
    throw usageError('FLAG_INVALID', `--limit must be a whole number of at least 1, got ${options.limit}`);
  }
  selectTags([], options); // the filters are checked before any request
  const requirement = options.verify === undefined ? undefined : await signatureCheck(options.verify);

  const src = await openRepository(source, { ...ctx.repositoryOptions, ...ctx.sides?.source, signal: ctx.signal });
  try {
    ctx.onStep?.(`listing tags of ${src.displayName}`);
    const all = await src.listTags({ signal: ctx.signal }).catch((err: unknown) => Promise.reject(explainNotFound(err, source)));
    const selected = selectTags(all, { semver: options.semver, regex: options.regex }).slice(0, options.limit);
    const dst = await openDestination(destination, options.dryRun === true, ctx);
    try {
      const copier = dst === undefined ? undefined : new GraphCopier(src, dst, {
        signal: ctx.signal,
        onProgress: ctx.onProgress,
        mountFrom: mountSource(source, destination),
        concurrency: options.concurrency,
      });
      const limit = createLimiter(RELEASES_IN_FLIGHT);
      const sourceTags = new Set(all);
      const outcomes = await Promise.all(selected.map((tag) => limit(async () => {
        const manifest = await fetchRelease(src, tag, ctx);
        if (manifest === undefined) return undefined;
        return handleRelease({ tag, manifest, src, dst, copier, requirement, options, ctx, sourceTags });
      })));
      if (options.dryRun !== true) await dst?.commit?.();
      return {
        source: repositoryName(source),
        destination: repositoryName(destination),
        dryRun: options.dryRun === true,
        releases: outcomes.filter((o): o is ReleaseOutcome => o !== undefined),
        blobs: copier === undefined ? { copied: 0, skipped: 0, mounted: 0 } : { ...copier.blobs },
        totalTags: all.length,
      };
    } finally {
      await dst?.close();
    }
  } finally {
    await src.close();
  }
}

/** The destination; for a dry run opened without creating it, and undefined when it is a layout not there yet. */
async function openDestination(destination: ArtifactReference, dryRun: boolean, ctx: OpContext): Promise<Repository | undefined> {
  try {
    return await openRepository(destination, { ...ctx.repositoryOptions, ...ctx.sides?.destination, create: !dryRun, signal: ctx.signal });
  } catch (err) {
    if (dryRun && err instanceof OciError && err.code === 'LAYOUT_NOT_FOUND') return undefined;
    throw err;
  }
}

async function fetchRelease(src: Repository, tag: string, ctx: OpContext): Promise<FetchedManifest | undefined> {
  try {
    return await src.getManifest(tag, { signal: ctx.signal, accept: MANIFEST_MEDIA_TYPES });
  } catch (err) {
    // Deleted between the tag list and this request: not an error of the run.
    if (err instanceof OciError && err.code === 'MANIFEST_UNKNOWN') {
      ctx.onNotice?.(`tag ${tag} disappeared from the source while copying`);
      return undefined;
    }
    throw err;
  }
}

interface ReleaseJob {
  tag: string;
  manifest: FetchedManifest;
  src: Repository;
  dst: Repository | undefined;
  copier: GraphCopier | undefined;
  requirement: SignatureCheck | undefined;
  options: CopyReleasesOptions;
  ctx: OpContext;
  /** Every tag of the source as listed at the start: cosign's signature tags are looked up in it, not probed. */
  sourceTags: ReadonlySet<string>;
}

async function handleRelease(job: ReleaseJob): Promise<ReleaseOutcome> {
  const { tag, manifest, src, dst, copier, options, ctx, sourceTags } = job;
  const outcome = (action: ReleaseAction, extra: Partial<ReleaseOutcome> = {}): ReleaseOutcome => ({
    tag,
    action,
    digest: manifest.digest,
    destination: formatReference(withVersion(options.destination, { tag, digest: action === 'kept' ? extra.previous : manifest.digest })),
    ...extra,
  });
  const existing = await dst?.resolve(tag, { signal: ctx.signal });
  const previous = existing !== undefined && existing.digest !== manifest.digest ? existing.digest : undefined;
  const carry = async (): Promise<number> =>
    options.includeSignatures === false || copier === undefined || dst === undefined ? 0 : copyAttached(copier, src, dst, manifest.digest, ctx, sourceTags);

  if (existing?.digest === manifest.digest) {
    if (options.dryRun === true) {
      // In sync only when what copy would carry (signatures, attestations, referrers) is there too.
      const missing = options.includeSignatures === false || dst === undefined ? 0 : await copyAttached('dry-run', src, dst, manifest.digest, ctx, sourceTags);
      return missing > 0 ? outcome('would-copy', { signatures: missing }) : outcome('in-sync');
    }
    const signatures = await carry();
    return outcome('in-sync', signatures > 0 ? { signatures } : {});
  }
  if (previous !== undefined && options.noClobber === true) return outcome('kept', { previous });
  if (job.requirement !== undefined) {
    ctx.onStep?.(`verifying ${tag} (${manifest.digest})`);
    const reason = await job.requirement(src, manifest, ctx.signal);
    if (reason !== undefined) return outcome('failed', { reason, ...(previous === undefined ? {} : { previous }) });
  }
  if (options.dryRun === true || copier === undefined) return outcome('would-copy', previous === undefined ? {} : { previous });
  ctx.onStep?.(`copying ${tag} (${manifest.digest})`);
  await copier.copyManifest(manifest, tag);
  const signatures = await carry();
  return outcome('copied', { ...(previous === undefined ? {} : { previous }), ...(signatures > 0 ? { signatures } : {}) });
}

/** undefined when a signature of the release satisfies the policy, else why not. */
type SignatureCheck = (repo: Repository, manifest: FetchedManifest, signal: AbortSignal) => Promise<string | undefined>;

/** The policy checked once up front (bad flags fail before any request), then applied per release as `verify` does. */
async function signatureCheck(policy: VerifyPolicy): Promise<SignatureCheck> {
  const { validatePolicy, verifyArtifact } = await import('../signing/index.js');
  validatePolicy(policy);
  return async (repo, manifest, signal) => {
    const descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
    const report = await verifyArtifact(repo, descriptor, policy, { signal });
    if (report.verified) return undefined;
    return report.signatures.map((s) => s.reason).filter((r) => r !== undefined && r !== '').join('; ') || 'no signatures found';
  };
}
