/** verifyArtifact: discover the signatures of one artifact and check each against the prepared policy. */
import type { Descriptor, Repository } from '../oci/types.js';
import { verifyBundleBlob, verifyLegacyLayer, type CosignContext } from './cosign-verify.js';
import { findLegacySignatures, findReferrerSignatures, type Candidate } from './discovery.js';
import { selectPolicy } from './notation/trust-policy.js';
import { verifyNotationSignature } from './notation/verify.js';
import { preparePolicy, type PreparedPolicy } from './policy.js';
import { fetchPublicGoodTrustMaterial, offlineTrustRootError } from './trust.js';
import type { SignatureResult, VerifyOptions, VerifyPolicy, VerifyReport } from './types.js';

function report(digest: string, signatures: SignatureResult[], none: string): VerifyReport {
  const ok = signatures.filter((s) => s.verified).length;
  const reason =
    signatures.length === 0 ? none : `${ok} of ${signatures.length} signature${signatures.length === 1 ? '' : 's'} verified`;
  return { digest, verified: ok > 0, signatures, reason };
}

function malformed(c: Extract<Candidate, { kind: 'malformed' }>): SignatureResult {
  return { kind: c.family === 'cosign-bundle' ? 'cosign-bundle' : 'notation-jws', source: c.source, verified: false, reason: c.reason };
}

export async function cosignContext(prepared: Extract<PreparedPolicy, { provider: 'cosign' }>, digest: string, options: VerifyOptions): Promise<CosignContext> {
  if (prepared.mode === 'keyed') {
    return { subjectDigest: digest, keys: prepared.keys, trust: prepared.trust, keyedTlogs: prepared.keyedTlogs };
  }
  let trust = prepared.trust;
  if (!trust) {
    if (options.offline) throw offlineTrustRootError();
    trust = await fetchPublicGoodTrustMaterial();
  }
  if (prepared.extraTlogs.length > 0) trust = { ...trust, tlogs: [...trust.tlogs, ...prepared.extraTlogs] };
  return { subjectDigest: digest, keys: [], identity: prepared.identity, trust };
}

export async function verifyArtifact(repo: Repository, subject: Descriptor, policy: VerifyPolicy, options: VerifyOptions = {}): Promise<VerifyReport> {
  const prepared = preparePolicy(policy);
  const { signal } = options;
  const digest = subject.digest;

  if (prepared.provider === 'notation') {
    const trustPolicy = selectPolicy(prepared.policies, repo.displayName);
    if (!trustPolicy) {
      return { digest, verified: false, signatures: [], reason: `no notation trust policy applies to ${repo.displayName}` };
    }
    if (trustPolicy.level === 'skip') {
      return { digest, verified: true, signatures: [], reason: `trust policy '${trustPolicy.name}' has level skip: signatures not verified` };
    }
    const ctx = { subject, policy: trustPolicy, store: prepared.store, now: options.now ?? new Date() };
    const found = await findReferrerSignatures(repo, digest, 'notation', signal);
    const results = found.map((c) =>
      c.kind === 'notation' ? verifyNotationSignature(c.source, c.envelopeType, c.blob, ctx) : malformed(c as Extract<Candidate, { kind: 'malformed' }>),
    );
    return report(digest, results, 'no notation signatures found');
  }

  // Discover first so an unsigned artifact reports "no signatures" without needing any trust root.
  const found = [...(await findReferrerSignatures(repo, digest, 'cosign-bundle', signal)), ...(await findLegacySignatures(repo, digest, signal))];
  if (found.length === 0) return report(digest, [], 'no cosign signatures found');
  const ctx = await cosignContext(prepared, digest, options);
  const results = found.map((c) => {
    if (c.kind === 'cosign-legacy') return verifyLegacyLayer(c, ctx);
    if (c.kind === 'cosign-bundle') return verifyBundleBlob(c.source, c.blob, ctx);
    return malformed(c as Extract<Candidate, { kind: 'malformed' }>);
  });
  return report(digest, results, 'no cosign signatures found');
}
