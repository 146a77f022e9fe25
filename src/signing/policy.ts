/**
 * Checking a VerifyPolicy (flags that are missing, contradictory or point at unreadable files are usage errors)
 * and loading what it names: keys, trust root, Rekor key, notation trust policy and store.
 */
import type { TrustMaterial } from '@sigstore/verify';
import { usageError } from '../errors.js';
import { compilePattern, type IdentityPolicy } from './identity.js';
import { loadPublicKeyFile, type PublicKeyEntry } from './keys.js';
import { loadTrustPolicies, type TrustPolicy } from './notation/trust-policy.js';
import { openTrustStore, type TrustStore } from './notation/trust-store.js';
import { loadTrustedRootFile, rekorAuthority, type TLogAuthority } from './trust.js';
import type { VerifyPolicy } from './types.js';

export type PreparedPolicy =
  | { provider: 'cosign'; mode: 'keyed'; keys: PublicKeyEntry[]; trust?: TrustMaterial; keyedTlogs?: TLogAuthority[] }
  | { provider: 'cosign'; mode: 'keyless'; identity: IdentityPolicy; trust?: TrustMaterial; extraTlogs: TLogAuthority[] }
  | { provider: 'notation'; policies: TrustPolicy[]; store: TrustStore };

const HINT_KEYLESS = 'pass --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp)';

function given(v: string | undefined): v is string {
  return v !== undefined && v !== '';
}

export function preparePolicy(policy: VerifyPolicy): PreparedPolicy {
  const keyless = [policy.certificateIdentity, policy.certificateIdentityRegexp, policy.certificateOidcIssuer, policy.certificateOidcIssuerRegexp];
  const keys = policy.keys?.filter(given) ?? [];
  if (policy.provider === 'notation') {
    if (keys.length > 0 || keyless.some(given) || given(policy.trustedRootPath) || given(policy.rekorPublicKeyPath)) {
      throw usageError('POLICY_CONFLICT', '--key, --certificate-*, --trusted-root and --rekor-public-key are cosign flags, not for --provider notation');
    }
    if (!given(policy.trustPolicyPath) || !given(policy.trustStorePath)) {
      throw usageError('POLICY_INCOMPLETE', 'notation verification needs --trust-policy and --trust-store', 'pass a notation trustpolicy.json and a certificate file or notation trust store directory');
    }
    return { provider: 'notation', policies: loadTrustPolicies(policy.trustPolicyPath), store: openTrustStore(policy.trustStorePath) };
  }
  if (policy.provider !== 'cosign') throw usageError('POLICY_INVALID', `unknown provider '${String(policy.provider)}' (expected cosign or notation)`);
  if (given(policy.trustPolicyPath) || given(policy.trustStorePath)) {
    throw usageError('POLICY_CONFLICT', '--trust-policy and --trust-store are for --provider notation');
  }
  const trust = given(policy.trustedRootPath) ? loadTrustedRootFile(policy.trustedRootPath) : undefined;
  const rekor = given(policy.rekorPublicKeyPath) ? rekorAuthority(loadPublicKeyFile(policy.rekorPublicKeyPath).key) : undefined;
  if (keys.length > 0) {
    if (keyless.some(given)) {
      throw usageError('POLICY_CONFLICT', '--key cannot be combined with --certificate-identity/--certificate-oidc-issuer flags', 'use --key for keyed signatures, the certificate flags for keyless ones');
    }
    const keyedTlogs = rekor || trust ? [...(trust?.tlogs ?? []), ...(rekor ? [rekor] : [])] : undefined;
    return { provider: 'cosign', mode: 'keyed', keys: keys.map(loadPublicKeyFile), trust, keyedTlogs };
  }
  const [identity, identityRegexp, issuer, issuerRegexp] = keyless;
  if (!given(identity) && !given(identityRegexp) && !given(issuer) && !given(issuerRegexp)) {
    throw usageError('POLICY_INCOMPLETE', 'cosign verification needs --key, or a keyless certificate identity and OIDC issuer', `pass --key cosign.pub, or ${HINT_KEYLESS}`);
  }
  if (!given(identity) && !given(identityRegexp)) throw usageError('POLICY_INCOMPLETE', 'keyless verification needs a certificate identity', HINT_KEYLESS);
  if (!given(issuer) && !given(issuerRegexp)) throw usageError('POLICY_INCOMPLETE', 'keyless verification needs a certificate OIDC issuer', HINT_KEYLESS);
  if (given(identityRegexp)) compilePattern(identityRegexp, '--certificate-identity-regexp');
  if (given(issuerRegexp)) compilePattern(issuerRegexp, '--certificate-oidc-issuer-regexp');
  const idPolicy: IdentityPolicy = {};
  if (given(identity)) idPolicy.identity = identity;
  if (given(identityRegexp)) idPolicy.identityRegexp = identityRegexp;
  if (given(issuer)) idPolicy.issuer = issuer;
  if (given(issuerRegexp)) idPolicy.issuerRegexp = issuerRegexp;
  return { provider: 'cosign', mode: 'keyless', identity: idPolicy, trust, extraTlogs: rekor ? [rekor] : [] };
}
