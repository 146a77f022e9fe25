/**
 * Verification of one cosign signature: a legacy simple-signing layer or a Sigstore bundle found as a referrer.
 * Keyed (each key tried) or keyless (Fulcio certificate + identity policy), always bound to the subject digest.
 */
import type { Bundle } from '@sigstore/bundle';
import type { TrustMaterial } from '@sigstore/verify';
import { Annotation, COSIGN_SIGN_PREDICATE } from '../oci/mediatypes.js';
import { shortDigest } from '../ref/digest.js';
import { identityMismatch, type IdentityPolicy } from './identity.js';
import { verifyWithKey, type PublicKeyEntry } from './keys.js';
import { verifyRekorAnnotation } from './rekor.js';
import { legacyKeylessBundle, parseBundle, runSigstoreVerifier, type SigstoreOutcome } from './sigstore.js';
import type { TLogAuthority } from './trust.js';
import type { SignatureResult } from './types.js';

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface CosignContext {
  subjectDigest: string;
  /** Keyed mode when non-empty. */
  keys: PublicKeyEntry[];
  /** Keyless mode. */
  identity?: IdentityPolicy;
  /** Keyless: the trust root. Keyed: base material (TSAs, logs) when a trusted root was given. */
  trust?: TrustMaterial;
  /** Keyed: when set, a transparency log entry is required and checked against these logs. */
  keyedTlogs?: TLogAuthority[];
}

export interface LegacyLayer {
  source: string;
  payload: Buffer;
  annotations: Record<string, string>;
}

/** Reason the simple-signing payload does not name the artifact, or undefined when it does. */
function simpleSigningProblem(payload: Buffer, digest: string): string | undefined {
  let doc: { critical?: { type?: unknown; image?: { 'docker-manifest-digest'?: unknown } } };
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'payload is not JSON';
  }
  const type = doc?.critical?.type;
  if (type !== SIMPLE_SIGNING_TYPE) return `payload type is ${JSON.stringify(type)}, not "${SIMPLE_SIGNING_TYPE}"`;
  const named = doc.critical?.image?.['docker-manifest-digest'];
  if (named !== digest) return `payload names ${typeof named === 'string' ? shortDigest(named) : 'no digest'}, not the artifact`;
  return undefined;
}

/** Reason the in-toto statement does not have the artifact as subject, plus its predicate type. */
function statementProblem(payload: Buffer, digest: string): { problem?: string; predicateType?: string } {
  let st: { _type?: unknown; predicateType?: unknown; subject?: Array<{ digest?: Record<string, unknown> }> };
  try {
    st = JSON.parse(payload.toString('utf8'));
  } catch {
    return { problem: 'DSSE payload is not JSON' };
  }
  const predicateType = typeof st?.predicateType === 'string' ? st.predicateType : undefined;
  if (typeof st?._type !== 'string' || !st._type.startsWith('https://in-toto.io/Statement/')) {
    return { problem: 'DSSE payload is not an in-toto statement', predicateType };
  }
  const [alg, hex] = digest.split(':') as [string, string];
  const subjects = Array.isArray(st.subject) ? st.subject : [];
  if (subjects.some((s) => s?.digest?.[alg] === hex)) return { predicateType };
  const first = subjects[0]?.digest;
  const named = first && typeof first[alg] === 'string' ? shortDigest(`${alg}:${first[alg]}`) : 'no matching digest';
  return { problem: `statement subject names ${named}, not the artifact`, predicateType };
}

function result(source: string, kind: SignatureResult['kind'], verified: boolean, reason: string, signer?: string): SignatureResult {
  return signer === undefined ? { kind, source, verified, reason } : { kind, source, verified, reason, signer };
}

function keyNames(keys: PublicKeyEntry[]): string {
  return keys.map((k) => k.name).join(', ');
}

export function verifyLegacyLayer(layer: LegacyLayer, ctx: CosignContext): SignatureResult {
  const { source, payload, annotations } = layer;
  const fail = (reason: string, signer?: string) => result(source, 'cosign-legacy', false, reason, signer);
  const sigB64 = annotations[Annotation.CosignSignature];
  if (!sigB64) return fail(`layer has no ${Annotation.CosignSignature} annotation`);
  const signature = Buffer.from(sigB64, 'base64');

  if (ctx.keys.length > 0) {
    const key = ctx.keys.find((k) => verifyWithKey(k.key, payload, signature));
    if (!key) return fail(`signature does not match key ${keyNames(ctx.keys)}`);
    const problem = simpleSigningProblem(payload, ctx.subjectDigest);
    if (problem) return fail(problem, key.fingerprint);
    let tlogNote = '';
    if (ctx.keyedTlogs) {
      const ann = annotations[Annotation.CosignBundle];
      if (!ann) return fail(`no Rekor entry (${Annotation.CosignBundle}) to check against the transparency log`, key.fingerprint);
      const check = verifyRekorAnnotation(ann, payload, signature, key.key, ctx.keyedTlogs);
      if (!check.ok) return fail(check.reason, key.fingerprint);
      tlogNote = `, in Rekor (index ${check.logIndex}, ${check.integratedTime.toISOString()})`;
    }
    return result(source, 'cosign-legacy', true, `signed by key ${key.name}${tlogNote}`, key.fingerprint);
  }

  const cert = annotations[Annotation.CosignCertificate];
  if (!cert) return fail('signature has no certificate (signed with a key: verify with --key)');
  const bundle = legacyKeylessBundle(payload, sigB64, cert, annotations[Annotation.CosignBundle]);
  if (typeof bundle === 'string') return fail(bundle);
  return finishKeyless(source, 'cosign-legacy', runSigstoreVerifier(bundle, payload, ctx.trust!, {}), ctx, () =>
    simpleSigningProblem(payload, ctx.subjectDigest),
  );
}

function finishKeyless(
  source: string,
  kind: SignatureResult['kind'],
  outcome: SigstoreOutcome,
  ctx: CosignContext,
  subjectProblem: () => string | undefined,
): SignatureResult {
  if (!outcome.ok) return result(source, kind, false, outcome.reason);
  const mismatch = identityMismatch(ctx.identity ?? {}, outcome.san, outcome.issuer);
  if (mismatch) return result(source, kind, false, mismatch, outcome.san);
  const problem = subjectProblem();
  if (problem) return result(source, kind, false, problem, outcome.san);
  return result(source, kind, true, `signed by ${outcome.san} (issuer ${outcome.issuer})`, outcome.san);
}

/**
 * Verify a Sigstore bundle stored as a referrer. `predicateType` is what the signed statement must be about: cosign
 * v3 stores signatures (predicate cosign/sign/v1) and attestations under the same artifact type, and tells them
 * apart only by the signed statement, so an attestation never counts as a signature (nor one kind of attestation as
 * another).
 */
export function verifyBundleBlob(source: string, blob: Buffer, ctx: CosignContext, predicateType: string = COSIGN_SIGN_PREDICATE): SignatureResult {
  const fail = (reason: string) => result(source, 'cosign-bundle', false, reason);
  let json: unknown;
  try {
    json = JSON.parse(blob.toString('utf8'));
  } catch {
    return fail('bundle is not JSON');
  }
  const bundle = parseBundle(json);
  if (typeof bundle === 'string') return fail(bundle);
  if (bundle.content.$case !== 'dsseEnvelope') return fail('bundle holds a message signature; cosign signs OCI artifacts with a DSSE envelope');
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return fail(`DSSE payload type ${envelope.payloadType} is not ${IN_TOTO_PAYLOAD_TYPE}`);
  const statement = statementProblem(envelope.payload, ctx.subjectDigest);
  if (statement.predicateType !== predicateType) {
    const found = statement.predicateType ?? 'none';
    return fail(predicateType === COSIGN_SIGN_PREDICATE
      ? `bundle is an attestation (predicate ${found}), not a signature: check it with verify --attestation`
      : `bundle's statement has predicate ${found}, not ${predicateType}`);
  }
  const keyed = bundle.verificationMaterial.content.$case === 'publicKey';

  if (ctx.keys.length > 0) {
    if (!keyed) return fail('bundle is signed with a certificate (keyless): verify with --certificate-identity and --certificate-oidc-issuer');
    return verifyKeyedBundle(source, bundle, ctx, statement.problem);
  }
  if (keyed) return fail('bundle is signed with a key: verify with --key');
  return finishKeyless(source, 'cosign-bundle', runSigstoreVerifier(bundle, undefined, ctx.trust!, {}), ctx, () => statement.problem);
}

function verifyKeyedBundle(source: string, bundle: Bundle, ctx: CosignContext, subjectProblem: string | undefined): SignatureResult {
  // Without a log to check against, entries are ignored (as Flux does for keys) rather than failing inclusion.
  const checked: Bundle = ctx.keyedTlogs
    ? bundle
    : { ...bundle, verificationMaterial: { ...bundle.verificationMaterial, tlogEntries: [] } };
  const base = ctx.trust ?? { certificateAuthorities: [], timestampAuthorities: [], ctlogs: [], tlogs: [], publicKey: undefined as never };
  const options = { tlogThreshold: ctx.keyedTlogs ? 1 : 0, ctlogThreshold: 0, timestampThreshold: 0 };
  let lastOther: string | undefined;
  for (const key of ctx.keys) {
    const trust: TrustMaterial = {
      ...base,
      tlogs: ctx.keyedTlogs ?? [],
      publicKey: () => ({ publicKey: key.key, validFor: () => true }),
    };
    const outcome = runSigstoreVerifier(checked, undefined, trust, options, key.name);
    if (outcome.ok) {
      const fp = key.fingerprint;
      if (subjectProblem) return result(source, 'cosign-bundle', false, subjectProblem, fp);
      const tlog = ctx.keyedTlogs ? ', transparency log entry verified' : '';
      return result(source, 'cosign-bundle', true, `signed by key ${key.name}${tlog}`, fp);
    }
    if (!outcome.reason.startsWith('signature does not match')) lastOther = outcome.reason;
  }
  return result(source, 'cosign-bundle', false, lastOther ?? `signature does not match key ${keyNames(ctx.keys)}`);
}
