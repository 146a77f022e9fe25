/** Public types of the signing module (re-exported by index.ts). */

export interface VerifyPolicy {
  provider: 'cosign' | 'notation';
  // cosign keyed
  /** PEM public key file paths (ECDSA P-256/P-384/P-521, RSA, Ed25519); each is tried. */
  keys?: string[];
  // cosign keyless
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  /** Sigstore trusted_root.json for offline verification (Fulcio CAs, Rekor and CT log keys, TSAs). */
  trustedRootPath?: string;
  /** Rekor public key: with keys, requires and checks each signature's transparency log entry. */
  rekorPublicKeyPath?: string;
  // notation
  trustPolicyPath?: string;
  trustStorePath?: string;
}

export type SignatureKind = 'cosign-legacy' | 'cosign-bundle' | 'notation-jws' | 'notation-cose';

export interface SignatureResult {
  kind: SignatureKind;
  /** Tag (with layer index for legacy signatures) or referrer manifest digest. */
  source: string;
  /** Certificate identity, certificate subject, or key fingerprint. */
  signer?: string;
  verified: boolean;
  /** One short human sentence: why it verified or why not. */
  reason: string;
}

export interface VerifyReport {
  digest: string;
  verified: boolean;
  signatures: SignatureResult[];
  /** One-line summary, e.g. "1 of 2 signatures verified" or "no cosign signatures found". */
  reason: string;
}

export interface VerifyOptions {
  signal?: AbortSignal;
  /** Clock for certificate validity and expiry checks (notation); defaults to the current time. */
  now?: Date;
  /** Never fetch the Sigstore public-good trusted root over the network (keyless then needs trustedRootPath). */
  offline?: boolean;
}

export interface SignOptions {
  /** A private key file (cosign keyed signing); unused with `keyless`. */
  keyPath?: string;
  /** For encrypted keys; the caller reads COSIGN_PASSWORD or prompts. */
  password?: string;
  /** Sign with a short-lived Fulcio certificate for an OIDC identity, logged in Rekor, instead of a key file. */
  keyless?: KeylessOptions;
  /** 'legacy': `sha256-<hex>.sig` tag (default); 'bundle': Sigstore bundle v0.3 as an OCI referrer. */
  format?: 'legacy' | 'bundle';
  /** Legacy: the payload's `optional` map. Bundle: annotations of the referrer manifest. */
  annotations?: Record<string, string>;
  /** Repository name for the payload's critical.identity.docker-reference / the statement subject name. */
  dockerReference?: string;
}

export interface KeylessOptions {
  /**
   * The OIDC ID token (audience `sigstore`) given explicitly; without it the CI environment is asked: GitLab's
   * SIGSTORE_ID_TOKEN, or GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN.
   */
  identityToken?: string;
  /** Defaults to the public-good instances (fulcio.sigstore.dev, rekor.sigstore.dev). */
  fulcioUrl?: string;
  rekorUrl?: string;
  /** When set, the identity token must have been issued by this issuer. */
  oidcIssuer?: string;
  /**
   * trusted_root.json for the Fulcio and Rekor used; default: the public-good root through TUF. The signature is
   * checked against it before anything is written, and the legacy chain annotation comes from it.
   */
  trustedRootPath?: string;
}

export interface SignResult {
  kind: 'cosign-legacy' | 'cosign-bundle';
  /** The `.sig` tag, or the referrer manifest digest. */
  location: string;
  /** Keyless: the certificate identity (SAN) and its OIDC issuer. */
  signer?: { identity: string; issuer: string };
}
