/**
 * Keyless cosign signing: an OIDC identity token (identity-token.ts), a short-lived certificate from Fulcio for
 * an ephemeral key, the signature logged in Rekor; the clients are sigstore-js's (FulcioSigner, RekorWitness,
 * its bundle builders). The result is checked against the trusted root before anything is written (as cosign
 * checks Fulcio's SCT), then stored as cosign stores it: legacy, a simple-signing layer whose annotations carry
 * the signature, the certificate, the chain and the Rekor bundle; or a Sigstore bundle v0.3 (DSSE in-toto
 * statement, `dsse` Rekor entry) as a referrer.
 */
import { X509Certificate } from 'node:crypto';
import { bundleToJSON, type Bundle } from '@sigstore/bundle';
import {
  CIContextProvider,
  DEFAULT_FULCIO_URL,
  DEFAULT_REKOR_URL,
  DSSEBundleBuilder,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
  type BundleBuilder,
  type IdentityProvider,
} from '@sigstore/sign';
import type { TrustMaterial } from '@sigstore/verify';
import { OciError } from '../errors.js';
import { Annotation } from '../oci/mediatypes.js';
import type { Descriptor, Repository } from '../oci/types.js';
import { IN_TOTO_PAYLOAD_TYPE } from './cosign-verify.js';
import { checkIdentityToken, identitySource, sigstoreServiceUrl, type IdentitySource } from './identity-token.js';
import { runSigstoreVerifier } from './sigstore.js';
import { signStatement, simpleSigningPayload, writeBundleReferrer, writeLegacySignature } from './signature-writer.js';
import { fetchPublicGoodTrustMaterial, loadTrustedRootFile } from './trust.js';
import type { KeylessOptions, SignOptions, SignResult } from './types.js';

/** sigstore-js's own defaults for its clients: two retries, 5 s per request. */
const RETRY = { retries: 2 };
const TIMEOUT_MS = 5_000;

interface Services {
  fulcioUrl: string;
  rekorUrl: string;
  source: IdentitySource['kind'];
}

/** The token, checked before it goes to Fulcio; GitHub Actions' is asked from the runner through sigstore-js. */
function identityProvider(source: IdentitySource, oidcIssuer: string | undefined): IdentityProvider {
  const ci = source.kind === 'GitHub Actions' ? new CIContextProvider('sigstore') : undefined;
  return {
    getToken: async () => checkIdentityToken(ci ? await ci.getToken() : (source as { token: string }).token, source.kind, oidcIssuer),
  };
}

function pem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function leafOf(bundle: Bundle): Buffer {
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'certificate') return material.certificate.rawBytes;
  if (material.$case === 'x509CertificateChain' && material.x509CertificateChain.certificates[0]) return material.x509CertificateChain.certificates[0].rawBytes;
  throw new OciError('KEYLESS_FAILED', 'Fulcio returned no certificate');
}

/**
 * The CA chain (issuer first, then up to the root) of the trusted root's CA that issued the leaf, as PEM blocks
 * joined as cosign writes Fulcio's chain: one newline between blocks, none after the last.
 */
function chainPem(leaf: Buffer, trust: TrustMaterial): string {
  const cert = new X509Certificate(leaf);
  for (const ca of trust.certificateAuthorities) {
    const chain = ca.certChain.map((c) => new X509Certificate(c.root.toDER()));
    if (chain[0] && cert.checkIssued(chain[0]) && cert.verify(chain[0].publicKey)) return chain.map((c) => pem(c.raw)).join('').trimEnd();
  }
  throw new OciError('KEYLESS_UNTRUSTED', 'the Fulcio certificate was issued by no CA of the trusted root', { kind: 'usage' });
}

/** The `dev.sigstore.cosign/bundle` annotation: Rekor's signed entry timestamp and the entry it covers. */
function rekorAnnotation(bundle: Bundle): string {
  const entry = bundle.verificationMaterial.tlogEntries[0];
  if (!entry?.inclusionPromise) throw new OciError('KEYLESS_FAILED', 'Rekor returned no signed entry timestamp');
  return JSON.stringify({
    SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp.toString('base64'),
    Payload: {
      body: entry.canonicalizedBody.toString('base64'),
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: entry.logId!.keyId.toString('hex'),
    },
  });
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause ?? err;
  const status = (cause as { statusCode?: number }).statusCode;
  const message = cause instanceof Error ? cause.message : String(cause);
  // sigstore-js's HTTPError says "(401) message".
  return status === undefined ? message : `HTTP ${status}: ${message.replace(/^\(\d+\) /, '')}`;
}

/** sigstore-js's InternalError (by code) as one line naming the service that failed. */
function signingError(err: unknown, services: Services): OciError {
  if (err instanceof OciError) return err;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof OciError) return cause;
  const code = (err as { code?: string }).code;
  const status = (cause as { statusCode?: number } | undefined)?.statusCode;
  switch (code) {
    case 'IDENTITY_TOKEN_READ_ERROR':
      return new OciError('IDENTITY_TOKEN_UNAVAILABLE', `cannot get an OIDC identity token from ${services.source}`, {
        kind: 'auth',
        cause: err,
        hint: 'grant the job `permissions: id-token: write` (GitHub Actions) or pass --identity-token',
      });
    case 'IDENTITY_TOKEN_PARSE_ERROR':
      // Its message quotes the token: never passed on.
      return new OciError('IDENTITY_TOKEN_INVALID', 'the identity token names no subject (sub, or a verified email)', { kind: 'usage' });
    case 'CA_CREATE_SIGNING_CERTIFICATE_ERROR':
      return new OciError('FULCIO_REFUSED', `Fulcio (${services.fulcioUrl}) issued no certificate: ${describeCause(err)}`, {
        kind: status === 401 || status === 403 ? 'auth' : 'registry',
        cause: err,
        hint: status === 401 ? 'the identity token is not accepted: check its audience (sigstore), issuer and expiry' : undefined,
      });
    case 'TLOG_CREATE_ENTRY_ERROR':
      return new OciError('REKOR_REFUSED', `Rekor (${services.rekorUrl}) did not log the signature: ${describeCause(err)}`, { cause: err });
    default:
      return new OciError('KEYLESS_FAILED', `keyless signing failed: ${describeCause(err)}`, { cause: err });
  }
}

async function create(builder: BundleBuilder, artifact: { data: Buffer; type?: string }, services: Services): Promise<Bundle> {
  try {
    return await builder.create(artifact);
  } catch (err) {
    throw signingError(err, services);
  }
}

/** The bundle as cosign v3 serializes it: no `timestampVerificationData` when it holds no timestamp. */
function serializeBundle(bundle: Bundle): Buffer {
  const json = bundleToJSON(bundle) as { verificationMaterial: { timestampVerificationData?: { rfc3161Timestamps?: unknown[] } } };
  if (!json.verificationMaterial.timestampVerificationData?.rfc3161Timestamps?.length) delete json.verificationMaterial.timestampVerificationData;
  return Buffer.from(JSON.stringify(json));
}

/** The signature must verify with the trusted root (chain, SCT, Rekor entry) before it is published. */
function checkTrusted(bundle: Bundle, artifact: Buffer | undefined, trust: TrustMaterial): { identity: string; issuer: string } {
  const outcome = runSigstoreVerifier(bundle, artifact, trust, {});
  if (!outcome.ok) {
    throw new OciError('KEYLESS_UNTRUSTED', `the keyless signature does not verify with the trusted root: ${outcome.reason}`, {
      kind: 'usage',
      hint: 'pass --trusted-root with the trusted_root.json of the Fulcio and Rekor given by --fulcio-url and --rekor-url',
    });
  }
  return { identity: outcome.san ?? '', issuer: outcome.issuer ?? '' };
}

interface KeylessSession {
  services: Services;
  trust: TrustMaterial;
  signer: FulcioSigner;
  witness: (entryType?: 'dsse') => RekorWitness;
}

async function keylessSession(k: KeylessOptions): Promise<KeylessSession> {
  const source = identitySource(k.identityToken);
  const services: Services = {
    fulcioUrl: sigstoreServiceUrl('--fulcio-url', k.fulcioUrl ?? DEFAULT_FULCIO_URL),
    rekorUrl: sigstoreServiceUrl('--rekor-url', k.rekorUrl ?? DEFAULT_REKOR_URL),
    source: source.kind,
  };
  const trust = k.trustedRootPath !== undefined ? loadTrustedRootFile(k.trustedRootPath) : await fetchPublicGoodTrustMaterial();
  const signer = new FulcioSigner({ fulcioBaseURL: services.fulcioUrl, identityProvider: identityProvider(source, k.oidcIssuer), retry: RETRY, timeout: TIMEOUT_MS });
  const witness = (entryType?: 'dsse') => new RekorWitness({ rekorBaseURL: services.rekorUrl, entryType, fetchOnConflict: false, retry: RETRY, timeout: TIMEOUT_MS });
  return { services, trust, signer, witness };
}

/**
 * A keyless DSSE bundle over an in-toto statement (`dsse` Rekor entry), checked against the trusted root; for
 * cosign v3 signatures (predicate cosign/sign/v1) and attestations alike.
 */
export async function keylessStatementBundle(statement: Buffer, k: KeylessOptions): Promise<{ bundle: Buffer; signer: { identity: string; issuer: string } }> {
  const { services, trust, signer, witness } = await keylessSession(k);
  const bundle = await create(new DSSEBundleBuilder({ signer, witnesses: [witness('dsse')] }), { data: statement, type: IN_TOTO_PAYLOAD_TYPE }, services);
  return { bundle: serializeBundle(bundle), signer: checkTrusted(bundle, undefined, trust) };
}

export async function signKeyless(
  repo: Repository,
  subject: Descriptor,
  options: SignOptions & { keyless: KeylessOptions; dockerReference: string },
  signal?: AbortSignal,
): Promise<SignResult> {
  const k = options.keyless;
  if (options.format === 'bundle') {
    const { bundle, signer: who } = await keylessStatementBundle(signStatement(subject, options.dockerReference), k);
    signal?.throwIfAborted();
    const location = await writeBundleReferrer(repo, subject, bundle, options.annotations, signal);
    return { kind: 'cosign-bundle', location, signer: who };
  }
  const { services, trust, signer, witness } = await keylessSession(k);
  const payload = simpleSigningPayload(subject.digest, options.dockerReference, options.annotations);
  const bundle = await create(new MessageSignatureBundleBuilder({ signer, witnesses: [witness()] }), { data: payload }, services);
  const who = checkTrusted(bundle, payload, trust);
  if (bundle.content.$case !== 'messageSignature') throw new OciError('KEYLESS_FAILED', 'sigstore returned no message signature');
  const leaf = leafOf(bundle);
  // Keys in the order cosign's JSON has them (sorted), so the manifest reads the same.
  const annotations = {
    [Annotation.CosignSignature]: bundle.content.messageSignature.signature.toString('base64'),
    [Annotation.CosignBundle]: rekorAnnotation(bundle),
    [Annotation.CosignCertificate]: pem(leaf),
    [Annotation.CosignChain]: chainPem(leaf, trust),
  };
  signal?.throwIfAborted();
  const location = await writeLegacySignature(repo, subject, payload, annotations, signal);
  return { kind: 'cosign-legacy', location, signer: who };
}
