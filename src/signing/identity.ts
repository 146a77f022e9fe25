/**
 * Keyless identity policy, Flux/cosign style: the certificate SAN and the OIDC issuer are each matched exactly
 * and/or by a regular expression that, like Go's regexp.MatchString, is unanchored.
 */
import { usageError } from '../errors.js';

export interface IdentityPolicy {
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
  issuerRegexp?: string;
}

/** Compile a Go RE2-style pattern; a leading `(?i)` (common in cosign policies) becomes JS's `i` flag. */
export function compilePattern(pattern: string, flag: string): RegExp {
  const insensitive = pattern.startsWith('(?i)');
  try {
    return new RegExp(insensitive ? pattern.slice(4) : pattern, insensitive ? 'iu' : 'u');
  } catch (err) {
    throw usageError('POLICY_INVALID', `${flag} '${pattern}' is not a valid regular expression: ${(err as Error).message}`);
  }
}

/** Undefined when the identity satisfies the policy, else a short reason. */
export function identityMismatch(policy: IdentityPolicy, san: string | undefined, issuer: string | undefined): string | undefined {
  const sanText = san ?? '(none)';
  const issuerText = issuer ?? '(none)';
  if (policy.identity !== undefined && san !== policy.identity) {
    return `certificate identity ${sanText} does not match ${policy.identity}`;
  }
  if (policy.identityRegexp !== undefined && (san === undefined || !compilePattern(policy.identityRegexp, '--certificate-identity-regexp').test(san))) {
    return `certificate identity ${sanText} does not match /${policy.identityRegexp}/`;
  }
  if (policy.issuer !== undefined && issuer !== policy.issuer) {
    return `certificate OIDC issuer ${issuerText} does not match ${policy.issuer}`;
  }
  if (policy.issuerRegexp !== undefined && (issuer === undefined || !compilePattern(policy.issuerRegexp, '--certificate-oidc-issuer-regexp').test(issuer))) {
    return `certificate OIDC issuer ${issuerText} does not match /${policy.issuerRegexp}/`;
  }
  return undefined;
}
