/**
 * Pure parser of the HTTP `WWW-Authenticate` header (RFC 9110 section 11.6.1). One header may hold several
 * challenges separated by commas, and commas also separate the parameters of one challenge, so the parser has to
 * look ahead: `name=` continues the current challenge, a bare token starts the next one.
 */
export interface Challenge {
  /** Lower-cased scheme, e.g. `bearer` or `basic`. */
  scheme: string;
  /** Parameters with lower-cased names; values unquoted and unescaped. */
  params: Record<string, string>;
  /** The token68 form (`Negotiate abc==`), when the challenge uses it instead of parameters. */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

export function parseWWWAuthenticate(header: string): Challenge[] {
  const s = header;
  let i = 0;
  const challenges: Challenge[] = [];

  const skipSpace = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const skipSeparators = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    i++; // opening quote
    let out = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      out += s[i];
      i++;
    }
    i++; // closing quote (or end of input for an unterminated string)
    return out;
  };
  /** True when, from `i`, the input reads `token [spaces] =` but not a token68's `==` padding. */
  const paramAhead = (): boolean => {
    let j = i;
    while (j < s.length && TCHAR.test(s[j]!)) j++;
    if (j === i) return false;
    while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
    return s[j] === '=';
  };

  while (true) {
    skipSeparators();
    if (i >= s.length) break;
    const scheme = readToken();
    if (scheme === '') {
      i++; // not a token character where a scheme must start: skip it rather than loop forever
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    skipSpace();

    // token68: characters then optional '=' padding, followed by end or a comma.
    if (!paramAhead() || /^[A-Za-z0-9\-._~+/]+=+\s*(,|$)/.test(s.slice(i))) {
      const start = i;
      while (i < s.length && TOKEN68_CHAR.test(s[i]!)) i++;
      while (i < s.length && s[i] === '=') i++;
      if (i > start) challenge.token68 = s.slice(start, i);
      continue;
    }

    // auth-params until a token that is not followed by '=' (the next challenge's scheme).
    while (i < s.length) {
      skipSeparators();
      if (!paramAhead()) break;
      const name = readToken().toLowerCase();
      skipSpace();
      i++; // '='
      skipSpace();
      const value = s[i] === '"' ? readQuoted() : readToken();
      if (!(name in challenge.params)) challenge.params[name] = value;
      skipSpace();
      if (i < s.length && s[i] !== ',') break; // malformed: let the outer loop resync
    }
  }
  return challenges;
}
