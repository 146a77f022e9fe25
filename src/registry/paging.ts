import { OciError } from '../errors.js';
import { handedOutUrl } from './handed-out-urls.js';
import type { HttpResponse } from './http.js';
import type { RepositorySession } from './repository-session.js';

/**
 * Paged listings (distribution spec: tag list end-8b, referrers end-12): the registry names the next page in a
 * `Link: <url>; rel="next"` header. One loop for both, bounded in pages, refusing a page already read and any
 * next address off the registry (handed-out-urls.ts).
 */

/**
 * The responses of a paged listing: `first`, then each page its `Link` header names. The caller reads each body
 * before asking for the next page; a registry paging back to a page already read or past `maxPages` is refused.
 */
export async function* pages(
  session: RepositorySession,
  first: string,
  what: string,
  signal: AbortSignal | undefined,
  maxPages: number,
): AsyncGenerator<{ res: HttpResponse; page: number }> {
  const pagesRead = new Set<string>();
  let url = first;
  for (let page = 0; page < maxPages; page++) {
    const res = await session.send({ method: 'GET', url, what, signal }, session.pull);
    yield { res, page };
    pagesRead.add(res.url);
    const next = nextLink(res.headers.link);
    if (next === undefined) return;
    url = handedOutUrl(next, res, session.host, `the next page of ${what}`);
    if (pagesRead.has(url)) throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${session.host} paged ${what} back to a page already read (${url})`);
  }
  throw new OciError('TOO_MANY_PAGES', `registry ${session.host} kept paging ${what} past ${maxPages} pages`);
}

/** The `rel="next"` address of a `Link` header, as written (relative or absolute). */
function nextLink(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]*)>\s*;.*\brel="?next"?/i.exec(part);
    if (match) return match[1];
  }
  return undefined;
}
