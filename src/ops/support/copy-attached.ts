import { OciError } from '../../errors.js';
import { MANIFEST_MEDIA_TYPES } from '../../oci/mediatypes.js';
import { COSIGN_TAG_SUFFIXES, cosignTag, ensureReferrersListed, getTagIfPresent } from '../../oci/referrers.js';
import type { Descriptor, Repository } from '../../oci/types.js';
import type { OpContext } from './context.js';
import type { GraphCopier } from './copy-graph.js';

/** Bound on attached manifests followed (referrers of referrers included), against hostile or runaway graphs. */
const MAX_ATTACHED = 256;

/**
 * Copy cosign's `.sig`/`.att`/`.sbom` tags and the OCI referrers of `subject`, then of each referrer copied (a
 * signature of an SBOM, ...). Referrers are stored by digest; where the destination would not list them
 * (a registry without the referrers API) the `sha256-<hex>` fallback index is updated. Returns the count copied.
 * With 'dry-run' in place of a copier nothing is written: the count is of what the destination lacks (a drift check
 * must see a signature added at the source after the release was copied).
 * `sourceTags`, the source's tag list when the caller has just listed it (copying many releases), answers whether a
 * cosign tag exists without a request per tag; one attached after that listing is carried by the next run.
 */
export async function copyAttached(
  copier: GraphCopier | 'dry-run',
  src: Repository,
  dst: Repository,
  subject: string,
  ctx: OpContext,
  sourceTags?: ReadonlySet<string>,
): Promise<number> {
  const present = async (reference: string, digest: string) => (await dst.resolve(reference, { signal: ctx.signal }))?.digest === digest;
  const queue = [subject];
  const seen = new Set(queue);
  let count = 0;
  while (queue.length > 0) {
    const digest = queue.shift() as string;
    for (const suffix of COSIGN_TAG_SUFFIXES) {
      const tag = cosignTag(digest, suffix);
      if (sourceTags !== undefined && !sourceTags.has(tag)) continue;
      const manifest = await getTagIfPresent(src, tag, { signal: ctx.signal, accept: MANIFEST_MEDIA_TYPES });
      if (manifest === undefined) continue;
      if (copier === 'dry-run') {
        if (!(await present(tag, manifest.digest))) count++;
        continue;
      }
      ctx.onStep?.(`copying ${tag}`);
      await copier.copyManifest(manifest, tag);
      count++;
    }
    const referrers = await src.referrers(digest, { signal: ctx.signal });
    const copied: Descriptor[] = [];
    for (const referrer of referrers) {
      if (seen.has(referrer.digest)) continue;
      if (seen.size >= MAX_ATTACHED) {
        throw new OciError('TOO_MANY_REFERRERS', `${src.displayName} has more than ${MAX_ATTACHED} manifests attached to ${subject}`,
          { hint: 'copy with --no-include-signatures and attach what you need separately' });
      }
      seen.add(referrer.digest);
      queue.push(referrer.digest);
      if (copier === 'dry-run') {
        if (!(await present(referrer.digest, referrer.digest))) count++;
        continue;
      }
      ctx.onStep?.(`copying referrer ${referrer.digest}`);
      const manifest = await copier.fetch(referrer.digest);
      await copier.copyManifest(manifest, referrer.digest);
      copied.push({ ...referrer, mediaType: manifest.mediaType, size: manifest.bytes.length });
      count++;
    }
    if (copier !== 'dry-run') await ensureReferrersListed(dst, digest, copied, ctx.signal);
  }
  return count;
}

