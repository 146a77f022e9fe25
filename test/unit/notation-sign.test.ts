import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, Tag } from 'cbor2';
import { algorithmFor, notationEnvelope, type NotationSignOptions } from '../../src/signing/notation/sign.js';
import { verifyNotationSignature, type NotationContext } from '../../src/signing/notation/verify.js';
import { loadTrustPolicies } from '../../src/signing/notation/trust-policy.js';
import { openTrustStore } from '../../src/signing/notation/trust-store.js';
import { CA_EXTENSIONS, generateCert, generateKey, type GeneratedCert } from '../../fixtures/signing/generate.js';
import { SIGNATURE_VECTORS } from '../helpers/vectors.js';

const FX = SIGNATURE_VECTORS;
const JOSE = 'application/jose+json';
const COSE = 'application/cose';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const subject = { mediaType: MANIFEST, digest: `sha256:${'ab'.repeat(32)}`, size: 321 };

let dir: string;
let rsaLeaf: GeneratedCert;
let root: GeneratedCert;
let ecLeaf: GeneratedCert;
let ecChain: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'notation-sign-'));
  rsaLeaf = generateCert(dir, { name: 'rsa-leaf', subject: '/C=US/ST=WA/O=Tests/CN=rsa signer', days: 2 });
  root = generateCert(dir, { name: 'root', subject: '/C=US/O=Tests/CN=Root CA', extensions: CA_EXTENSIONS, days: 30 });
  ecLeaf = generateCert(dir, { name: 'ec-leaf', subject: '/C=US/ST=WA/O=Tests/CN=ec signer', issuer: root, keyType: 'ec', days: 2 });
  ecChain = join(dir, 'ec-chain.pem');
  writeFileSync(ecChain, ecLeaf.certPem + root.certPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function strict(storePath: string, now = new Date()): NotationContext {
  const path = join(dir, 'trustpolicy.json');
  writeFileSync(path, JSON.stringify({ version: '1.0', trustPolicies: [{ name: 'strict', registryScopes: ['*'], trustStores: ['ca:test'], trustedIdentities: ['*'], signatureVerification: { level: 'strict' } }] }));
  return { subject, policy: loadTrustPolicies(path)[0]!, store: openTrustStore(storePath), now };
}

function decodeB64url(s: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function jwsParts(bytes: Buffer) {
  const env = JSON.parse(bytes.toString('utf8')) as { protected: string; payload: string; header: Record<string, unknown>; signature: string };
  return { env, header: decodeB64url(env.protected), payload: decodeB64url(env.payload) };
}

function coseParts(bytes: Buffer) {
  const tagged = decode(bytes) as Tag;
  const [prot, unprotected, payload] = tagged.contents as [Uint8Array, Map<unknown, unknown>, Uint8Array, Uint8Array];
  return { tag: Number(tagged.tag), header: decode(prot) as Map<unknown, unknown>, unprotected, payload: JSON.parse(Buffer.from(payload).toString()) as Record<string, unknown> };
}

function flip(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at]! ^= 1;
  return copy;
}

const rsa = (): NotationSignOptions => ({ keyPath: rsaLeaf.keyPath, certChainPath: rsaLeaf.certPath });

describe('notation envelopes have the shape notation writes (compared with the real vectors)', () => {
  it('JWS: the same protected header names and values types, unprotected header names and payload shape as notation-jws-oci', () => {
    const real = jwsParts(readFileSync(`${FX}/notation-jws-oci/signature-envelope.jws.json`));
    const ours = jwsParts(notationEnvelope(subject, rsa()).bytes);
    expect(Object.keys(ours.env).sort()).toEqual(Object.keys(real.env).sort());
    expect(Object.keys(ours.header).sort()).toEqual(Object.keys(real.header).sort());
    for (const name of ['alg', 'crit', 'cty', 'io.cncf.notary.signingScheme']) expect(ours.header[name]).toEqual(real.header[name]);
    expect(ours.header['io.cncf.notary.signingTime']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Object.keys(ours.env.header).sort()).toEqual(Object.keys(real.env.header).sort());
    expect(Object.keys(ours.payload)).toEqual(['targetArtifact']);
    expect(Object.keys(ours.payload.targetArtifact as object).sort()).toEqual(Object.keys(real.payload.targetArtifact as object).sort());
    expect(ours.payload.targetArtifact).toEqual(subject);
  });

  it('JWS with an expiry: the expiry header is present and critical, as notation marks it', () => {
    const now = new Date('2026-01-02T03:04:05.678Z');
    const { header } = jwsParts(notationEnvelope(subject, { ...rsa(), expirySeconds: 3600, now }).bytes);
    expect(header.crit).toEqual(['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry']);
    expect(header['io.cncf.notary.signingTime']).toBe('2026-01-02T03:04:05Z');
    expect(header['io.cncf.notary.expiry']).toBe('2026-01-02T04:04:05Z');
  });

  it('COSE: tag 18, the same protected labels (times as tag 1), unprotected labels and payload as notation-cose-oci', () => {
    const real = coseParts(readFileSync(`${FX}/notation-cose-oci/signature-envelope.cose`));
    const ours = coseParts(notationEnvelope(subject, { ...rsa(), envelope: 'cose' }).bytes);
    expect(ours.tag).toBe(real.tag);
    const keys = (m: Map<unknown, unknown>) => [...m.keys()].map(String).sort();
    expect(keys(ours.header)).toEqual(keys(real.header));
    for (const label of [1, 2, 3, 'io.cncf.notary.signingScheme']) expect(ours.header.get(label)).toEqual(real.header.get(label));
    expect(ours.header.get('io.cncf.notary.signingTime')).toBeInstanceOf(Date);
    expect(real.header.get('io.cncf.notary.signingTime')).toBeInstanceOf(Date);
    expect(keys(ours.unprotected)).toEqual(keys(real.unprotected));
    expect(Array.isArray(ours.unprotected.get(33))).toBe(true);
    expect(Object.keys(ours.payload.targetArtifact as object).sort()).toEqual(Object.keys(real.payload.targetArtifact as object).sort());
  });

  it('picks the algorithm notation uses for the key', () => {
    const gen = (type: 'rsa' | 'ec', o: object): KeyObject => (generateKeyPairSync as (t: string, o: object) => { privateKey: KeyObject })(type, o).privateKey;
    expect(algorithmFor(gen('rsa', { modulusLength: 2048 }), 'k')).toBe('PS256');
    expect(algorithmFor(gen('rsa', { modulusLength: 3072 }), 'k')).toBe('PS384');
    expect(algorithmFor(gen('ec', { namedCurve: 'P-256' }), 'k')).toBe('ES256');
    expect(algorithmFor(gen('ec', { namedCurve: 'P-384' }), 'k')).toBe('ES384');
    expect(algorithmFor(gen('ec', { namedCurve: 'P-521' }), 'k')).toBe('ES512');
    expect(() => algorithmFor(generateKeyPairSync('ed25519').privateKey, 'ed.key')).toThrow(/ed.key cannot sign notation signatures/);
  });
});

describe('notation envelopes we sign verify under a strict trust policy', () => {
  for (const envelope of ['jws', 'cose'] as const) {
    const type = envelope === 'cose' ? COSE : JOSE;
    it(`${envelope}: self-signed RSA leaf (PS256) and an ECDSA leaf chained to a root (ES256)`, () => {
      const a = notationEnvelope(subject, { ...rsa(), envelope });
      expect(verifyNotationSignature('s', a.mediaType, a.bytes, strict(rsaLeaf.certPath))).toMatchObject({ kind: `notation-${envelope}`, verified: true, signer: 'C=US, ST=WA, O=Tests, CN=rsa signer' });
      const b = notationEnvelope(subject, { keyPath: ecLeaf.keyPath, certChainPath: ecChain, envelope });
      expect(verifyNotationSignature('s', type, b.bytes, strict(root.certPath)).verified).toBe(true);
      expect(verifyNotationSignature('s', type, b.bytes, strict(rsaLeaf.certPath)).reason).toBe('certificate chain does not include a certificate of the trust store');
    });

    it(`${envelope}: an expired signature fails the strict policy`, () => {
      const env = notationEnvelope(subject, { ...rsa(), envelope, expirySeconds: 60 });
      expect(verifyNotationSignature('s', type, env.bytes, strict(rsaLeaf.certPath)).verified).toBe(true);
      const later = new Date(Date.now() + 120_000);
      expect(verifyNotationSignature('s', type, env.bytes, strict(rsaLeaf.certPath, later)).reason).toMatch(/^signature expired at /);
    });
  }

  it('a tampered payload byte, protected header or signature fails', () => {
    const { bytes } = notationEnvelope(subject, rsa());
    const env = JSON.parse(bytes.toString()) as Record<string, string>;
    const ctx = strict(rsaLeaf.certPath);
    const payload = Buffer.from(env.payload!, 'base64url').toString().replace(subject.digest, `sha256:${'ac'.repeat(32)}`);
    const changed = (field: string, value: string) => Buffer.from(JSON.stringify({ ...env, [field]: value }));
    expect(verifyNotationSignature('s', JOSE, changed('payload', Buffer.from(payload).toString('base64url')), ctx).reason).toBe('signature does not match the signing certificate');
    const header = { ...decodeB64url(env.protected!), 'io.cncf.notary.signingTime': '2020-01-01T00:00:00Z' };
    expect(verifyNotationSignature('s', JOSE, changed('protected', Buffer.from(JSON.stringify(header)).toString('base64url')), ctx).reason).toBe('signature does not match the signing certificate');
    const sig = flip(Buffer.from(env.signature!, 'base64url'), 10);
    expect(verifyNotationSignature('s', JOSE, changed('signature', sig.toString('base64url')), ctx).reason).toBe('signature does not match the signing certificate');
    const cose = notationEnvelope(subject, { ...rsa(), envelope: 'cose' }).bytes;
    expect(verifyNotationSignature('s', COSE, flip(cose, cose.indexOf(Buffer.from('targetArtifact')) + 3), ctx).reason).toBe('signature does not match the signing certificate');
  });
});

describe('notation signing refuses what verification would refuse', () => {
  it('a certificate that is not for the key, a file without certificates, a non-code-signing leaf, an Ed25519 key', () => {
    expect(() => notationEnvelope(subject, { keyPath: ecLeaf.keyPath, certChainPath: rsaLeaf.certPath })).toThrow(/is not for the signing key/);
    expect(() => notationEnvelope(subject, { keyPath: rsaLeaf.keyPath, certChainPath: rsaLeaf.keyPath })).toThrow(/holds no PEM certificate/);
    const server = generateCert(dir, { name: 'server', subject: '/CN=server', extensions: ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth'] });
    expect(() => notationEnvelope(subject, { keyPath: server.keyPath, certChainPath: server.certPath })).toThrow(/not for code signing/);
    expect(() => notationEnvelope(subject, { keyPath: generateKey(dir, 'ed', 'ed25519'), certChainPath: rsaLeaf.certPath })).toThrow(/cannot sign notation signatures/);
  });
});
