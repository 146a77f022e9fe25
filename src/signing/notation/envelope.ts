/**
 * Notation signature envelopes, JWS (flattened JSON) and COSE_Sign1, reduced to one shape: the exact signed
 * bytes, the signature, the algorithm, the protected headers that matter, and the certificate chain.
 */
import { decode, encode, Tag } from 'cbor2';
import { MediaType } from '../../oci/mediatypes.js';

export type NotationAlg = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

export interface Envelope {
  format: 'jws' | 'cose';
  alg: string;
  signedBytes: Buffer;
  signature: Buffer;
  payload: Buffer;
  contentType: unknown;
  signingScheme: unknown;
  signingTime?: Date;
  expiry?: Date;
  authenticSigningTime?: Date;
  /** Names of the protected headers listed as critical. */
  crit: string[];
  /** Names of all protected headers present. */
  protectedNames: string[];
  /** DER certificates, leaf first. */
  certs: Buffer[];
}

export const HEADER = {
  signingScheme: 'io.cncf.notary.signingScheme',
  signingTime: 'io.cncf.notary.signingTime',
  expiry: 'io.cncf.notary.expiry',
  authenticSigningTime: 'io.cncf.notary.authenticSigningTime',
  verificationPlugin: 'io.cncf.notary.verificationPlugin',
  verificationPluginMinVersion: 'io.cncf.notary.verificationPluginMinVersion',
} as const;

function b64url(s: unknown, what: string): Buffer {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s)) throw new Error(`JWS ${what} is not base64url`);
  return Buffer.from(s, 'base64url');
}

function date(v: unknown, what: string): Date | undefined {
  if (v === undefined) return undefined;
  const d = v instanceof Date ? v : typeof v === 'string' ? new Date(v) : typeof v === 'number' ? new Date(v * 1000) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw new Error(`${what} is not a time`);
  return d;
}

function parseJws(blob: Buffer): Envelope {
  const env = JSON.parse(blob.toString('utf8')) as Record<string, unknown>;
  const protectedText = env.protected;
  const payloadText = env.payload;
  const header = JSON.parse(b64url(protectedText, 'protected header').toString('utf8')) as Record<string, unknown>;
  const unprotected = (env.header ?? {}) as { x5c?: unknown };
  if (!Array.isArray(unprotected.x5c) || unprotected.x5c.length === 0 || !unprotected.x5c.every((c) => typeof c === 'string')) throw new Error('JWS has no x5c certificate chain');
  return {
    format: 'jws',
    alg: String(header.alg),
    signedBytes: Buffer.from(`${protectedText as string}.${payloadText as string}`, 'ascii'),
    signature: b64url(env.signature, 'signature'),
    payload: b64url(payloadText, 'payload'),
    contentType: header.cty,
    signingScheme: header[HEADER.signingScheme],
    signingTime: date(header[HEADER.signingTime], 'signing time'),
    expiry: date(header[HEADER.expiry], 'expiry'),
    authenticSigningTime: date(header[HEADER.authenticSigningTime], 'authentic signing time'),
    crit: Array.isArray(header.crit) ? header.crit.map(String) : [],
    protectedNames: Object.keys(header),
    certs: (unprotected.x5c as string[]).map((c) => Buffer.from(c, 'base64')),
  };
}

const COSE_ALGS: Record<number, NotationAlg> = { [-37]: 'PS256', [-38]: 'PS384', [-39]: 'PS512', [-7]: 'ES256', [-35]: 'ES384', [-36]: 'ES512' };
const COSE_LABELS: Record<number, string> = { 1: 'alg', 2: 'crit', 3: 'cty' };

function bytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new Error(`COSE ${what} is not a byte string`);
  return v;
}

function parseCose(blob: Buffer): Envelope {
  const tagged = decode(blob);
  if (!(tagged instanceof Tag) || Number(tagged.tag) !== 18 || !Array.isArray(tagged.contents) || tagged.contents.length !== 4) {
    throw new Error('not a tagged COSE_Sign1 structure');
  }
  const [protectedBstr, unprotected, payload, signature] = tagged.contents as unknown[];
  const protBytes = bytes(protectedBstr, 'protected header');
  const prot = decode(protBytes) as unknown;
  if (!(prot instanceof Map)) throw new Error('COSE protected header is not a map');
  if (!(unprotected instanceof Map)) throw new Error('COSE unprotected header is not a map');
  const x5 = unprotected.get(33) as unknown;
  const chain = x5 instanceof Uint8Array ? [x5] : Array.isArray(x5) ? x5.map((c) => bytes(c, 'certificate')) : [];
  if (chain.length === 0) throw new Error('COSE has no x5chain certificate chain');
  const payloadBytes = bytes(payload, 'payload');
  // Sig_structure for COSE_Sign1 (RFC 9052 §4.4) with empty external AAD; byte strings re-encoded as Uint8Array.
  const signed = encode(['Signature1', Uint8Array.from(protBytes), new Uint8Array(0), Uint8Array.from(payloadBytes)]);
  const algLabel = prot.get(1);
  return {
    format: 'cose',
    alg: typeof algLabel === 'number' ? (COSE_ALGS[algLabel] ?? `COSE ${algLabel}`) : String(algLabel),
    signedBytes: Buffer.from(signed),
    signature: Buffer.from(bytes(signature, 'signature')),
    payload: Buffer.from(payloadBytes),
    contentType: prot.get(3),
    signingScheme: prot.get(HEADER.signingScheme),
    signingTime: date(tagValue(prot.get(HEADER.signingTime)), 'signing time'),
    expiry: date(tagValue(prot.get(HEADER.expiry)), 'expiry'),
    authenticSigningTime: date(tagValue(prot.get(HEADER.authenticSigningTime)), 'authentic signing time'),
    crit: Array.isArray(prot.get(2)) ? (prot.get(2) as unknown[]).map((c) => (typeof c === 'number' ? (COSE_LABELS[c] ?? String(c)) : String(c))) : [],
    protectedNames: [...prot.keys()].map((k) => (typeof k === 'number' ? (COSE_LABELS[k] ?? String(k)) : String(k))),
    certs: chain.map((c) => Buffer.from(c)),
  };
}

/** cbor2 turns tag 1 into a Date; other tags come as Tag objects. */
function tagValue(v: unknown): unknown {
  return v instanceof Tag && Number(v.tag) === 1 ? v.contents : v;
}

export function parseEnvelope(mediaType: string, blob: Buffer): Envelope {
  if (mediaType === MediaType.Jose) return parseJws(blob);
  if (mediaType === MediaType.Cose) return parseCose(blob);
  throw new Error(`unsupported envelope media type ${mediaType}`);
}
