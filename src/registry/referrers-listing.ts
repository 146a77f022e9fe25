import { OciError } from '../errors.js';
import { MediaType } from '../oci/mediatypes.js';
import { descriptorsIn, fallbackReferrers, type FallbackIndexSeen } from '../oci/referrers.js';
import type { Descriptor, ImageIndex, Repository } from '../oci/types.js';
import { referrersUrl } from './distribution-urls.js';
import { pages } from './paging.js';
import { responseError } from './registry-errors.js';
import type { RepositorySession } from './repository-session.js';
import { discardBody, mediaTypeOf, readJsonBody } from './response-body.js';

/**
 * The referrers of a manifest: the referrers API (distribution spec end-12a/b), every page of it (a registry may
 * split the listing with `Link` headers, as for tags); where the registry has no API, the fallback index of the
 * referrers tag schema (see `fallbackReferrers` for what is and is not one). Whether the API answers is learned
 * once per repository.
 */

/** Referrers pages followed, and referrers held in all: far beyond any real artifact's signatures and attestations. */
const MAX_REFERRER_PAGES = 1000;
const MAX_REFERRERS = 100_000;

export class ReferrersListing {
  /** undefined until probed; then whether GET /referrers answers with an image index. */
  private api: boolean | undefined;

  /** `repository` is the same repository as `session`'s, for reading a fallback index. */
  constructor(private readonly session: RepositorySession, private readonly repository: Repository) {}

  async list(digest: string, signal: AbortSignal | undefined, artifactType?: string, onFallbackIndex?: FallbackIndexSeen): Promise<Descriptor[]> {
    const keep = (list: Descriptor[]): Descriptor[] =>
      artifactType === undefined ? list : list.filter((d) => d.artifactType === artifactType);
    if (this.api !== false) {
      const listed = await this.fromApi(digest, signal, artifactType);
      if (listed !== undefined) return keep(listed);
    }
    return keep(await fallbackReferrers(this.repository, digest, signal, onFallbackIndex));
  }

  /** Every page of the referrers API; undefined when the registry has none. */
  private async fromApi(digest: string, signal: AbortSignal | undefined, artifactType: string | undefined): Promise<Descriptor[] | undefined> {
    const { session } = this;
    const what = `referrers of ${session.name}@${digest}`;
    const listed: Descriptor[] = [];
    for await (const { res, page } of pages(session, referrersUrl(session.name, digest, artifactType), what, signal, MAX_REFERRER_PAGES)) {
      if (res.status === 200 && mediaTypeOf(res.headers['content-type']) === MediaType.OciIndex) {
        this.api = true;
        for (const entry of descriptorsIn((await readJsonBody<Partial<ImageIndex> | null>(res, session.host, what, signal))?.manifests)) listed.push(entry);
        if (listed.length > MAX_REFERRERS) throw new OciError('TOO_MANY_REFERRERS', `registry ${session.host} listed more than ${MAX_REFERRERS} ${what}; refused`);
        continue;
      }
      // Only the first answer may say "no API here"; a later page that is not a listing is an error of the listing.
      if (page > 0 && res.status === 200) {
        discardBody(res.body);
        throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${session.host} answered page ${page + 1} of ${what} with ${mediaTypeOf(res.headers['content-type']) ?? 'content'} that is not an image index`);
      }
      if (page > 0 || (res.status !== 200 && res.status !== 404 && res.status !== 400 && res.status !== 405)) {
        throw await responseError(res, session.host, what);
      }
      res.body.resume();
      this.api = false;
      break;
    }
    return this.api ? listed : undefined;
  }
}
