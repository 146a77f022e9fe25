import { OciError } from '../errors.js';
import { tagListUrl } from './distribution-urls.js';
import { pages } from './paging.js';
import { responseError } from './registry-errors.js';
import type { RepositorySession } from './repository-session.js';
import { readJsonBody } from './response-body.js';

/** The tags of a repository (distribution spec end-8b), every page, bounded in pages and tags. */

const DEFAULT_TAG_PAGE = 1000;
const MAX_TAG_PAGES = 10_000;
/** Far beyond any real repository; bounds the memory a registry paging on and on can make us hold. */
const MAX_TAGS = 1_000_000;

export async function listTags(session: RepositorySession, signal: AbortSignal | undefined, pageSize = DEFAULT_TAG_PAGE): Promise<string[]> {
  const what = `tags of ${session.name}`;
  const tags: string[] = [];
  for await (const { res } of pages(session, tagListUrl(session.name, pageSize), what, signal, MAX_TAG_PAGES)) {
    if (res.status !== 200) throw await responseError(res, session.host, what);
    const body = await readJsonBody<{ tags?: unknown } | null>(res, session.host, what, signal);
    const pageTags = body?.tags ?? [];
    if (!Array.isArray(pageTags) || pageTags.some((tag) => typeof tag !== 'string')) {
      throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${session.host} answered ${what} with a tags field that is not a list of names`);
    }
    // One at a time: push(...page) overflows the call stack for pages of more than ~120k tags.
    for (const tag of pageTags as string[]) tags.push(tag);
    if (tags.length > MAX_TAGS) throw new OciError('TOO_MANY_TAGS', `registry ${session.host} listed more than ${MAX_TAGS} ${what}; refused`);
  }
  return tags;
}
