/**
 * The secrets this run holds (passwords, registry and identity tokens), so that no printed line carries one, in
 * any form a registry might echo it: as is, percent-encoded, JSON-escaped, or inside a `Basic` header (base64 of
 * `user:password`). The credential code registers each secret when it gets it; the two writers of the CLI's
 * messages (the reporter and the error line) pass their text through `redactSecrets`. Independently of what is
 * registered, an `Authorization`-style value (`Basic …`, `Bearer …`) is never printed either.
 */
const REDACTED = 'REDACTED';
/** Shorter values would redact ordinary words; real passwords and tokens are longer. */
const MIN_SECRET_LENGTH = 4;

const forms = new Set<string>();

function add(form: string): void {
  if (form.length >= MIN_SECRET_LENGTH) forms.add(form);
}

/** Register a secret; its encoded forms are registered with it. */
export function rememberSecret(secret: string | undefined): void {
  if (secret === undefined || secret.length < MIN_SECRET_LENGTH) return;
  add(secret);
  add(encodeURIComponent(secret));
  add(JSON.stringify(secret).slice(1, -1));
  add(Buffer.from(secret).toString('base64'));
  add(Buffer.from(secret).toString('base64url'));
}

/** Register a user name and password: the password, and the Basic header value made of both. */
export function rememberPassword(username: string, password: string | undefined): void {
  if (password === undefined || password.length < MIN_SECRET_LENGTH) return;
  rememberSecret(password);
  const pair = Buffer.from(`${username}:${password}`);
  add(pair.toString('base64'));
  add(pair.toString('base64url'));
  add(encodeURIComponent(`${username}:${password}`));
}

/**
 * `Basic dXNlcjpwYXNz`, `Bearer eyJ…`: the scheme stays (it tells which auth was used), the value goes. A value
 * must hold a digit or a base64/JWT punctuation mark, so prose such as "Basic authentication" stays readable.
 */
const AUTHORIZATION_VALUE = /\b(Basic|Bearer)(\s+)(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{6,}/gi;

/** `text` with every registered secret, and any Authorization-style value, replaced by REDACTED. */
export function redactSecrets(text: string): string {
  let out = text.replace(AUTHORIZATION_VALUE, `$1$2${REDACTED}`);
  // Longest first, so a secret that contains another is replaced whole.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (out.includes(form)) out = out.split(form).join(REDACTED);
  }
  return out;
}
