/**
 * Secrets kept out of the request log (--verbose, --debug): signed-URL parameters and userinfo in URLs, and the
 * Authorization, Proxy-Authorization and cookie headers. Printed text as a whole goes through src/secrets.ts too.
 */

const SECRET_PARAM = /sig|token|credential|secret|password|key|auth/i;

/** The URL with its userinfo dropped and secret-looking query parameters (`sig`, `token`, ...) replaced. */
export function redactUrl(href: string): string {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return href;
  }
  url.username = '';
  url.password = '';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, 'REDACTED');
  }
  return url.href;
}

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Headers with credentials replaced; a `Location` redacted as a URL. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (SECRET_HEADERS.has(name)) {
      // Keep the scheme word (`Bearer`, `Basic`) so a log shows which auth was used; nothing else.
      const scheme = /^([A-Za-z]+) \S/.exec(v)?.[1];
      out[k] = name.endsWith('authorization') && scheme !== undefined ? `${scheme} REDACTED` : 'REDACTED';
    }
    else if (name === 'location') out[k] = redactUrl(v);
    else out[k] = v;
  }
  return out;
}
