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
 */
export async function copyAttached(copier: GraphCopier, src: Repository, dst: Repository, subject: string, ctx: OpContext): Promise<number> {
  const queue = [subject];
  const seen = new Set(queue);
  let count = 0;
  while (queue.length > 0) {
    const digest = queue.shift() as string;
    for (const suffix of COSIGN_TAG_SUFFIXES) {
      const tag = cosignTag(digest, suffix);
      const manifest = await getTagIfPresent(src, tag, { signal: ctx.signal, accept: MANIFEST_MEDIA_TYPES });
      if (manifest === undefined) continue;
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
      ctx.onStep?.(`copying referrer ${referrer.digest}`);
      const manifest = await copier.fetch(referrer.digest);
      await copier.copyManifest(manifest, referrer.digest);
      copied.push({ ...referrer, mediaType: manifest.mediaType, size: manifest.bytes.length });
      queue.push(referrer.digest);
      count++;
    }
    await ensureReferrersListed(dst, digest, copied, ctx.signal);
  }
  return count;
}

