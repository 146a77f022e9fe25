/**
 * Signature discovery, verification and signing for OCI artifacts: cosign (legacy `.sig` tags and v3 Sigstore
 * bundles as referrers, keyed or keyless) and notation (JWS and COSE), offline-capable.
 */
import { preparePolicy } from './policy.js';
import type { VerifyPolicy } from './types.js';

export type { KeylessOptions, SignatureKind, SignatureResult, SignOptions, SignResult, VerifyOptions, VerifyPolicy, VerifyReport } from './types.js';
export { identitySource, NO_IDENTITY_MESSAGE, sigstoreServiceUrl } from './identity-token.js';
export { verifyArtifact } from './verify-artifact.js';
export { signArtifact } from './sign.js';
export { encryptCosignKey } from './cosign-key.js';

/** Throws a usage OciError for missing or contradictory flags and unreadable or invalid key/policy/root files. */
export function validatePolicy(policy: VerifyPolicy): void {
  preparePolicy(policy);
}
