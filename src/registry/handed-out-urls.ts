import { OciError } from '../errors.js';
import type { HttpResponse } from './http.js';

/**
 * Where the registry may send us next with its credentials: an address it handed out in a `Link` or `Location`
 * header stays on its host and scheme. (Redirects, which carry no credentials off the origin, are http.ts's.)
 */

/**
 * A URL the registry handed out (a `Link` to the next page, an upload or mount `Location`), resolved against the
 * answer that carried it. Requests to it carry the registry's credentials, so it must stay on the same host and
 * port and never go from HTTPS to plain HTTP (only http -> https is allowed); anything else is refused.
 */
export function handedOutUrl(value: string, res: Pick<HttpResponse, 'url'>, host: string, what: string): string {
  const base = new URL(res.url);
  let next: URL;
  try {
    next = new URL(value, base);
  } catch {
    throw new OciError('REGISTRY_URL_REFUSED', `registry ${host} sent an unusable address for ${what}; refused`);
  }
  const downgrade = base.protocol === 'https:' && next.protocol !== 'https:';
  if (next.host !== base.host || downgrade || (next.protocol !== 'https:' && next.protocol !== 'http:')) {
    throw new OciError('REGISTRY_URL_REFUSED', `registry ${host} sent an address for ${what} on another host or scheme (${next.protocol}//${next.host}); refused`, {
      hint: 'the registry (or a proxy in front of it) is misconfigured or hostile; no credentials were sent there',
    });
  }
  return next.href;
}
