/**
 * Notation signing (`notary.x509` scheme): a JWS (flattened JSON) or COSE_Sign1 envelope over the
 * `{"targetArtifact": descriptor}` payload, with the protected headers notation writes (alg, crit, cty,
 * io.cncf.notary.signingScheme, io.cncf.notary.signingTime, io.cncf.notary.expiry when asked) and the certificate
 * chain in x5c / x5chain, pushed as a referrer (artifactType application/vnd.cncf.notary.signature) with the
 * `io.cncf.notary.x509chain.thumbprint#S256` annotation, as notation 1.1+ stores signatures.
 */
import { constants, createHash, createPublicKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { encode, Tag } from 'cbor2';
import { OciError, usageError } from '../../errors.js';
import { Annotation, MediaType } from '../../oci/mediatypes.js';
import type { Descriptor, Repository } from '../../oci/types.js';
import { loadPrivateKeyFile, spkiDer } from '../keys.js';
import { createdAnnotation, pushReferrer } from '../referrer.js';
import { HEADER, type NotationAlg } from './envelope.js';
import { codeSigningChainProblem, parseCert } from './x509.js';

export type NotationEnvelopeFormat = 'jws' | 'cose';

export const THUMBPRINT_ANNOTATION = 'io.cncf.notary.x509chain.thumbprint#S256';
const SIGNING_AGENT = 'io.cncf.notary.signingAgent';
const SIGNING_SCHEME = 'notary.x509';

export interface NotationSignOptions {
  keyPath: string;
  /** PEM certificates, signing certificate first, then its issuers up to the root (notation's key `certPath`). */
  certChainPath: string;
  password?: string;
  /** 'jws' (notation's default) or 'cose'. */
  envelope?: NotationEnvelopeFormat;
  /** How long the signature stays valid; no expiry header without it. */
  expirySeconds?: number;
  /** notation's --user-metadata: annotations of the signed target descriptor. */
  userMetadata?: Record<string, string>;
  signingAgent?: string;
  /** Clock for the signing time (tests). */
  now?: Date;
}

export interface NotationSignResult {
  kind: 'notation-jws' | 'notation-cose';
  /** Digest of the signature manifest (the referrer). */
  location: string;
}

const COSE_ALG: Record<NotationAlg, number> = { PS256: -37, PS384: -38, PS512: -39, ES256: -7, ES384: -35, ES512: -36 };
const HASH: Record<NotationAlg, string> = { PS256: 'sha256', PS384: 'sha384', PS512: 'sha512', ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };
const SALT: Partial<Record<NotationAlg, number>> = { PS256: 32, PS384: 48, PS512: 64 };

/** The algorithm notation uses for a key: RSASSA-PSS by modulus size, ECDSA by curve; others are refused. */
export function algorithmFor(key: KeyObject, path: string): NotationAlg {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const byBits: Record<number, NotationAlg> = { 2048: 'PS256', 3072: 'PS384', 4096: 'PS512' };
    const alg = byBits[d?.modulusLength ?? 0];
    if (alg) return alg;
  }
  if (key.asymmetricKeyType === 'ec') {
    const byCurve: Record<string, NotationAlg> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
    const alg = byCurve[d?.namedCurve ?? ''];
    if (alg) return alg;
  }
  throw usageError('KEY_UNSUPPORTED', `${path} cannot sign notation signatures: notation takes RSA 2048/3072/4096-bit or ECDSA P-256/P-384/P-521 keys`);
}

function signBytes(alg: NotationAlg, key: KeyObject, data: Buffer): Buffer {
  return alg.startsWith('PS')
    ? sign(HASH[alg], data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: SALT[alg]! })
    : sign(HASH[alg], data, { key, dsaEncoding: 'ieee-p1363' });
}

/** The certificate chain file as DER certificates, checked to be a code-signing chain for `key`. */
export function loadCertificateChain(path: string, key: KeyObject): Buffer[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new OciError('FILE_UNREADABLE', `cannot read certificate chain ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { kind: 'usage', cause: err });
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw usageError('CERT_INVALID', `${path} holds no PEM certificate`, 'pass the signing certificate, then its issuers up to the root, as PEM');
  let chain: Buffer[];
  try {
    chain = blocks.map((b) => new X509Certificate(b).raw);
  } catch (err) {
    throw new OciError('CERT_INVALID', `${path} holds a certificate that cannot be read (${(err as Error).message})`, { kind: 'usage', cause: err });
  }
  const leafKey = new X509Certificate(chain[0]!).publicKey;
  if (!spkiDer(leafKey).equals(spkiDer(createPublicKey(key)))) {
    throw usageError('CERT_KEY_MISMATCH', `the first certificate in ${path} is not for the signing key`, 'put the signing certificate first, then its issuers');
  }
  // Refuse to write what notation verification would refuse to read.
  const problem = codeSigningChainProblem(chain.map(parseCert));
  if (problem) throw usageError('CERT_INVALID', `${path}: ${problem}`, 'notation needs a code-signing certificate chain ending in a self-signed root');
  return chain;
}

interface SignedHeaders {
  alg: NotationAlg;
  signingTime: Date;
  expiry?: Date;
}

/** Notation marks the signing scheme (and the expiry, when present) critical. */
function critical(h: SignedHeaders): string[] {
  return [HEADER.signingScheme, ...(h.expiry ? [HEADER.expiry] : [])];
}

/** RFC 3339 to the second, as notation writes times in JWS. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function jwsEnvelope(payload: Buffer, h: SignedHeaders, key: KeyObject, chain: Buffer[], agent: string): Buffer {
  const header: Record<string, unknown> = {
    alg: h.alg,
    crit: critical(h),
    cty: MediaType.NotaryPayload,
    ...(h.expiry ? { [HEADER.expiry]: rfc3339(h.expiry) } : {}),
    [HEADER.signingScheme]: SIGNING_SCHEME,
    [HEADER.signingTime]: rfc3339(h.signingTime),
  };
  const protectedB64 = Buffer.from(JSON.stringify(header)).toString('base64url');
  const payloadB64 = payload.toString('base64url');
  const signature = signBytes(h.alg, key, Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii'));
  return Buffer.from(JSON.stringify({
    payload: payloadB64,
    protected: protectedB64,
    header: { x5c: chain.map((c) => c.toString('base64')), [SIGNING_AGENT]: agent },
    signature: signature.toString('base64url'),
  }));
}

/** CBOR tag 1 (epoch seconds), as notation-go writes COSE times. */
function epochTag(d: Date): Tag {
  return new Tag(1, Math.floor(d.getTime() / 1000));
}

function coseEnvelope(payload: Buffer, h: SignedHeaders, key: KeyObject, chain: Buffer[], agent: string): Buffer {
  const header = new Map<number | string, unknown>([
    [1, COSE_ALG[h.alg]],
    [2, critical(h)],
    [3, MediaType.NotaryPayload],
    [HEADER.signingScheme, SIGNING_SCHEME],
    [HEADER.signingTime, epochTag(h.signingTime)],
  ]);
  if (h.expiry) header.set(HEADER.expiry, epochTag(h.expiry));
  const protectedBytes = encode(header);
  const payloadBytes = Uint8Array.from(payload);
  // Sig_structure for COSE_Sign1 (RFC 9052 §4.4) with empty external AAD.
  const toBeSigned = Buffer.from(encode(['Signature1', protectedBytes, new Uint8Array(0), payloadBytes]));
  const signature = signBytes(h.alg, key, toBeSigned);
  const unprotected = new Map<number | string, unknown>([
    [33, chain.map((c) => Uint8Array.from(c))],
    [SIGNING_AGENT, agent],
  ]);
  return Buffer.from(encode(new Tag(18, [protectedBytes, unprotected, payloadBytes, Uint8Array.from(signature)])));
}

/** The payload notation signs: the target's descriptor (with --user-metadata as its annotations). */
export function notationPayload(subject: Descriptor, userMetadata?: Record<string, string>): Buffer {
  const target: Record<string, unknown> = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
  if (userMetadata && Object.keys(userMetadata).length > 0) target.annotations = userMetadata;
  return Buffer.from(JSON.stringify({ targetArtifact: target }));
}

/** The envelope bytes and media type, without pushing anything. */
export function notationEnvelope(subject: Descriptor, options: NotationSignOptions): { mediaType: string; bytes: Buffer; chain: Buffer[]; signingTime: Date } {
  const key = loadPrivateKeyFile(options.keyPath, options.password);
  const alg = algorithmFor(key, options.keyPath);
  const chain = loadCertificateChain(options.certChainPath, key);
  // Notation's times have a precision of a second: truncate so the envelope says exactly what was signed.
  const signingTime = new Date(Math.floor((options.now ?? new Date()).getTime() / 1000) * 1000);
  const expiry = options.expirySeconds !== undefined ? new Date(signingTime.getTime() + options.expirySeconds * 1000) : undefined;
  const headers: SignedHeaders = { alg, signingTime, ...(expiry ? { expiry } : {}) };
  const payload = notationPayload(subject, options.userMetadata);
  const agent = options.signingAgent ?? 'oci-artifact';
  return options.envelope === 'cose'
    ? { mediaType: MediaType.Cose, bytes: coseEnvelope(payload, headers, key, chain, agent), chain, signingTime }
    : { mediaType: MediaType.Jose, bytes: jwsEnvelope(payload, headers, key, chain, agent), chain, signingTime };
}

/** Sign `subject` in `repo` and store the envelope as its referrer. */
export async function signNotation(repo: Repository, subject: Descriptor, options: NotationSignOptions & { signal?: AbortSignal }): Promise<NotationSignResult> {
  const envelope = notationEnvelope(subject, options);
  const thumbprints = envelope.chain.map((c) => createHash('sha256').update(c).digest('hex'));
  const location = await pushReferrer(repo, {
    artifactType: MediaType.NotarySignature,
    layer: { mediaType: envelope.mediaType, bytes: envelope.bytes },
    subject,
    annotations: { [THUMBPRINT_ANNOTATION]: JSON.stringify(thumbprints), [Annotation.Created]: createdAnnotation(envelope.signingTime) },
  }, options.signal);
  return { kind: envelope.mediaType === MediaType.Cose ? 'notation-cose' : 'notation-jws', location };
}
