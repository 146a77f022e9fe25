import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyNotationSignature, type NotationContext } from '../../src/signing/notation/verify.js';
import { loadTrustPolicies, selectPolicy, type TrustPolicy } from '../../src/signing/notation/trust-policy.js';
import { openTrustStore } from '../../src/signing/notation/trust-store.js';
import { CA_EXTENSIONS, CODE_SIGNING_LEAF, generateCert, notationJws, notationPayload, type GeneratedCert } from '../../fixtures/signing/generate.js';
import { SIGNATURE_VECTORS } from '../helpers/vectors.js';

const FX = SIGNATURE_VECTORS;
const JOSE = 'application/jose+json';
const COSE = 'application/cose';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const JWS_SUBJECT = { mediaType: MANIFEST, digest: 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9', size: 517 };
const COSE_SUBJECT = { mediaType: MANIFEST, digest: 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0', size: 481 };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'notation-verify-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function policyFile(policy: object): TrustPolicy[] {
  const path = join(dir, `policy-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ version: '1.0', trustPolicies: [{ name: 'p', registryScopes: ['*'], trustStores: ['ca:test'], trustedIdentities: ['*'], signatureVerification: { level: 'strict' }, ...policy }] }));
  return loadTrustPolicies(path);
}

function ctx(subject: NotationContext['subject'], storePath: string, policy: object = {}, now = new Date()): NotationContext {
  return { subject, policy: policyFile(policy)[0]!, store: openTrustStore(storePath), now };
}

function flip(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at] ^= 1;
  return copy;
}

describe('notation vectors', () => {
  it('verifies the notation e2e JWS with its own trustpolicy.json and e2e.crt', () => {
    const policies = loadTrustPolicies(`${FX}/notation-jws-oci/trustpolicy.json`);
    const c: NotationContext = { subject: JWS_SUBJECT, policy: selectPolicy(policies, 'localhost:5000/e2e')!, store: openTrustStore(`${FX}/notation-jws-oci/truststore-ca-e2e.crt`), now: new Date() };
    const r = verifyNotationSignature('sha256:90ce', JOSE, readFileSync(`${FX}/notation-jws-oci/signature-envelope.jws.json`), c);
    expect(r).toMatchObject({ kind: 'notation-jws', verified: true, signer: 'C=US, ST=WA, L=Seattle, O=Notary, CN=e2e' });
    expect(r.reason).toBe("signed by C=US, ST=WA, L=Seattle, O=Notary, CN=e2e, trust policy 'e2e' (strict)");
  });

  it('verifies the notation-go COSE and JWS envelopes with the alpine certificate', () => {
    const c = ctx(COSE_SUBJECT, `${FX}/notation-cose-oci/truststore-ca-alpine.crt`);
    expect(verifyNotationSignature('s', COSE, readFileSync(`${FX}/notation-cose-oci/signature-envelope.cose`), c)).toMatchObject({ kind: 'notation-cose', verified: true });
    expect(verifyNotationSignature('s', JOSE, readFileSync(`${FX}/notation-cose-oci/signature-envelope.jws.json`), c).verified).toBe(true);
  });

  it('rejects a COSE envelope with one flipped payload bit', () => {
    const cose = readFileSync(`${FX}/notation-cose-oci/signature-envelope.cose`);
    const at = cose.indexOf(Buffer.from('targetArtifact')) + 2;
    const r = verifyNotationSignature('s', COSE, flip(cose, at), ctx(COSE_SUBJECT, `${FX}/notation-cose-oci/truststore-ca-alpine.crt`));
    expect(r).toMatchObject({ verified: false, reason: 'signature does not match the signing certificate' });
  });

  it("rejects another folder's trust store, another digest, another size", () => {
    const jws = readFileSync(`${FX}/notation-jws-oci/signature-envelope.jws.json`);
    expect(verifyNotationSignature('s', JOSE, jws, ctx(JWS_SUBJECT, `${FX}/notation-cose-oci/truststore-ca-alpine.crt`)).reason).toBe(
      'certificate chain does not include a certificate of the trust store',
    );
    const store = `${FX}/notation-jws-oci/truststore-ca-e2e.crt`;
    expect(verifyNotationSignature('s', JOSE, jws, ctx({ ...JWS_SUBJECT, digest: `sha256:${'0'.repeat(64)}` }, store)).reason).toBe(
      'payload names sha256:b8479de3f88f…, not the artifact',
    );
    expect(verifyNotationSignature('s', JOSE, jws, ctx({ ...JWS_SUBJECT, size: 518 }, store)).reason).toBe('payload names size 517, the artifact has 518');
  });

  it('matches trusted identities as RDN sets', () => {
    const jws = readFileSync(`${FX}/notation-jws-oci/signature-envelope.jws.json`);
    const store = `${FX}/notation-jws-oci/truststore-ca-e2e.crt`;
    const ok = ctx(JWS_SUBJECT, store, { trustedIdentities: ['x509.subject: CN=e2e, O=Notary, C=US, ST=WA, L=Seattle'] });
    expect(verifyNotationSignature('s', JOSE, jws, ok).verified).toBe(true);
    const other = ctx(JWS_SUBJECT, store, { trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary, CN=someone-else'] });
    expect(verifyNotationSignature('s', JOSE, jws, other).reason).toBe('signing certificate subject C=US, ST=WA, L=Seattle, O=Notary, CN=e2e is not a trusted identity');
  });

  it('reads a notation trust store tree (x509/ca/<name>) and ignores stores the policy does not name', () => {
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'x509', 'ca', 'e2e'), { recursive: true });
    copyFileSync(`${FX}/notation-jws-oci/truststore-ca-e2e.crt`, join(root, 'x509', 'ca', 'e2e', 'e2e.crt'));
    const jws = readFileSync(`${FX}/notation-jws-oci/signature-envelope.jws.json`);
    expect(verifyNotationSignature('s', JOSE, jws, ctx(JWS_SUBJECT, root, { trustStores: ['ca:e2e'] })).verified).toBe(true);
    expect(verifyNotationSignature('s', JOSE, jws, ctx(JWS_SUBJECT, root, { trustStores: ['ca:other'] })).reason).toBe('no ca certificates in trust stores ca:other');
  });

  it('audit level accepts an untrusted signer, noting it', () => {
    const jws = readFileSync(`${FX}/notation-jws-oci/signature-envelope.jws.json`);
    const r = verifyNotationSignature('s', JOSE, jws, ctx(JWS_SUBJECT, `${FX}/notation-cose-oci/truststore-ca-alpine.crt`, { signatureVerification: { level: 'audit' } }));
    expect(r.verified).toBe(true);
    expect(r.reason).toContain('not enforced: authenticity: certificate chain does not include a certificate of the trust store');
  });
});

describe('notation with openssl-made certificates', () => {
  let leaf: GeneratedCert;
  let serverLeaf: GeneratedCert;
  let root: GeneratedCert;
  let chained: GeneratedCert;
  const subject = { mediaType: MANIFEST, digest: `sha256:${'cd'.repeat(32)}`, size: 1234 };

  beforeAll(() => {
    leaf = generateCert(dir, { name: 'leaf', subject: '/C=US/ST=WA/O=Tests/CN=signer', days: 2 });
    serverLeaf = generateCert(dir, { name: 'server', subject: '/C=US/ST=WA/O=Tests/CN=server', extensions: ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth'] });
    root = generateCert(dir, { name: 'root', subject: '/C=US/O=Tests/CN=Root CA', extensions: CA_EXTENSIONS, days: 365 });
    chained = generateCert(dir, { name: 'chained', subject: '/C=US/ST=WA/O=Tests/CN=chained', issuer: root, keyType: 'ec' });
  });

  it('a self-signed code-signing leaf in the trust store verifies', () => {
    const env = notationJws({ payload: notationPayload(subject), chain: [leaf] });
    expect(verifyNotationSignature('s', JOSE, env, ctx(subject, leaf.certPath)).verified).toBe(true);
  });

  it('a chain to a root CA in the trust store verifies (ES256)', () => {
    const env = notationJws({ payload: notationPayload(subject), chain: [chained, root], alg: 'ES256' });
    expect(verifyNotationSignature('s', JOSE, env, ctx(subject, root.certPath))).toMatchObject({ verified: true, signer: 'C=US, ST=WA, O=Tests, CN=chained' });
    const mismatched = notationJws({ payload: notationPayload(subject), chain: [chained, root], alg: 'PS256' as 'ES256' });
    expect(verifyNotationSignature('s', JOSE, mismatched, ctx(subject, root.certPath)).verified).toBe(false);
  });

  it('rejects a leaf without the codeSigning EKU', () => {
    const env = notationJws({ payload: notationPayload(subject), chain: [serverLeaf] });
    expect(verifyNotationSignature('s', JOSE, env, ctx(subject, serverLeaf.certPath)).reason).toBe(
      'signing certificate is not for code signing (extended key usage 1.3.6.1.5.5.7.3.1)',
    );
  });

  it('an expired certificate fails under strict and is only noted under permissive', () => {
    const env = notationJws({ payload: notationPayload(subject), chain: [leaf] });
    const later = new Date(Date.now() + 10 * 86400_000);
    const strict = verifyNotationSignature('s', JOSE, env, ctx(subject, leaf.certPath, {}, later));
    expect(strict.verified).toBe(false);
    expect(strict.reason).toMatch(/^signing certificate is not valid at verification time/);
    const permissive = verifyNotationSignature('s', JOSE, env, ctx(subject, leaf.certPath, { signatureVerification: { level: 'permissive' } }, later));
    expect(permissive.verified).toBe(true);
    expect(permissive.reason).toContain('not enforced: authenticTimestamp: signing certificate is not valid at verification time');
  });

  it('a signing time outside the certificate validity fails', () => {
    const env = notationJws({ payload: notationPayload(subject), chain: [leaf], signingTime: new Date('2001-01-01T00:00:00Z') });
    expect(verifyNotationSignature('s', JOSE, env, ctx(subject, leaf.certPath)).reason).toMatch(/^signing certificate is not valid at signing time 2001-01-01/);
  });

  it('an expired signature fails under strict; expiry can be overridden to log', () => {
    const env = notationJws({ payload: notationPayload(subject), chain: [leaf], expiry: new Date(Date.now() - 1000) });
    expect(verifyNotationSignature('s', JOSE, env, ctx(subject, leaf.certPath)).reason).toMatch(/^signature expired at /);
    const logged = ctx(subject, leaf.certPath, { signatureVerification: { level: 'strict', override: { expiry: 'log' } } });
    expect(verifyNotationSignature('s', JOSE, env, logged).verified).toBe(true);
  });

  it('revocation is never queried: a chain naming a CRL fails under strict unless revocation is overridden', () => {
    const revocable = generateCert(dir, { name: 'revocable', subject: '/C=US/ST=WA/O=Tests/CN=revocable', extensions: [...CODE_SIGNING_LEAF, 'crlDistributionPoints=URI:http://crl.example.invalid/x.crl'] });
    const env = notationJws({ payload: notationPayload(subject), chain: [revocable] });
    expect(verifyNotationSignature('s', JOSE, env, ctx(subject, revocable.certPath)).reason).toMatch(/^revocation status not checked \(offline/);
    const logged = verifyNotationSignature('s', JOSE, env, ctx(subject, revocable.certPath, { signatureVerification: { level: 'strict', override: { revocation: 'log' } } }));
    expect(logged.verified).toBe(true);
    expect(logged.reason).toContain('not enforced: revocation: revocation status not checked');
  });

  it('rejects unknown critical headers', () => {
    const env = JSON.parse(notationJws({ payload: notationPayload(subject), chain: [leaf] }).toString());
    const header = JSON.parse(Buffer.from(env.protected, 'base64url').toString());
    header.crit.push('io.example.unknown');
    header['io.example.unknown'] = 1;
    env.protected = Buffer.from(JSON.stringify(header)).toString('base64url');
    const r = verifyNotationSignature('s', JOSE, Buffer.from(JSON.stringify(env)), ctx(subject, leaf.certPath));
    expect(r.reason).toBe('critical header io.example.unknown is not understood');
  });
  it('rejects protected headers that break the envelope rules', () => {
    const edited = (edit: (h: Record<string, any>) => void) => {
      const env = JSON.parse(notationJws({ payload: notationPayload(subject), chain: [leaf] }).toString());
      const header = JSON.parse(Buffer.from(env.protected, 'base64url').toString());
      edit(header);
      env.protected = Buffer.from(JSON.stringify(header)).toString('base64url');
      return verifyNotationSignature('s', JOSE, Buffer.from(JSON.stringify(env)), ctx(subject, leaf.certPath)).reason;
    };
    expect(edited((h) => (h.crit = []))).toBe('header io.cncf.notary.signingScheme must be marked critical');
    expect(edited((h) => (h.cty = 'application/json'))).toBe('payload content type application/json is not application/vnd.cncf.notary.payload.v1+json');
    expect(edited((h) => h.crit.push('io.cncf.notary.verificationPlugin'))).toBe('signature requires a notation verification plugin, which is not supported');
    expect(edited((h) => delete h['io.cncf.notary.signingTime'])).toBe('signature has no signing time');
    expect(edited((h) => (h['io.cncf.notary.signingScheme'] = 'notary.other'))).toBe('signing scheme notary.other is not supported');
  });

  it('rejects chains that break the code-signing rules', () => {
    const verify = (chain: GeneratedCert[], store: GeneratedCert) =>
      verifyNotationSignature('s', JOSE, notationJws({ payload: notationPayload(subject), chain, alg: chain[0] === chained ? 'ES256' : 'PS256' }), ctx(subject, store.certPath)).reason;
    expect(verify([chained], root)).toBe('the certificate chain does not end in a self-signed root');
    const wrongIssuer = generateCert(dir, { name: 'not-ca', subject: '/C=US/O=Tests/CN=not a CA', extensions: ['basicConstraints=critical,CA:FALSE'] });
    const underLeaf = generateCert(dir, { name: 'under-leaf', subject: '/C=US/O=Tests/CN=under leaf', issuer: wrongIssuer });
    expect(verify([underLeaf, wrongIssuer], wrongIssuer)).toBe('certificate 1 is not a CA allowed to sign certificates');
    expect(verify([chained, leaf], root)).toBe('certificate 0 is not issued by the next certificate in the chain');
    const noDigitalSignature = generateCert(dir, { name: 'no-ds', subject: '/C=US/O=Tests/CN=no ds', extensions: ['keyUsage=critical,keyEncipherment', 'extendedKeyUsage=codeSigning'] });
    expect(verify([noDigitalSignature], noDigitalSignature)).toBe('signing certificate lacks the digitalSignature key usage');
    const unknownCritical = generateCert(dir, { name: 'crit-ext', subject: '/C=US/O=Tests/CN=crit', extensions: [...CODE_SIGNING_LEAF, '1.2.3.4=critical,ASN1:NULL'] });
    expect(verify([unknownCritical], unknownCritical)).toBe('certificate 0 has an unsupported critical extension 1.2.3.4');
  });

  it('a subject that repeats an attribute matches no trusted identity', () => {
    const twoOrgs = generateCert(dir, { name: 'two-orgs', subject: '/C=US/O=Evil/O=Tests/CN=signer' });
    const env = notationJws({ payload: notationPayload(subject), chain: [twoOrgs] });
    const r = verifyNotationSignature('s', JOSE, env, ctx(subject, twoOrgs.certPath, { trustedIdentities: ['x509.subject: O=Tests, CN=signer'] }));
    expect(r).toMatchObject({ verified: false, reason: 'signing certificate subject C=US, O=Evil, O=Tests, CN=signer repeats an attribute, so it cannot match a trusted identity' });
  });

  it('reports a JWS with an empty x5c chain as malformed instead of throwing', () => {
    const env = JSON.parse(notationJws({ payload: notationPayload(subject), chain: [leaf] }).toString());
    env.header.x5c = [];
    const r = verifyNotationSignature('s', JOSE, Buffer.from(JSON.stringify(env)), ctx(subject, leaf.certPath));
    expect(r).toMatchObject({ verified: false, reason: 'signature envelope is malformed: JWS has no x5c certificate chain' });
  });
});

describe('trust policy documents', () => {
  const write = (doc: unknown) => {
    const p = join(dir, `bad-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(p, JSON.stringify(doc));
    return p;
  };
  const base = { name: 'a', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:x'], trustedIdentities: ['*'] };

  it('rejects wrong versions, bad levels, bad stores and identities as usage errors', () => {
    const cases: [unknown, RegExp][] = [
      [{ version: '2.0', trustPolicies: [base] }, /version "2.0" is not supported/],
      [{ version: '1.0', trustPolicies: [{ ...base, signatureVerification: { level: 'lenient' } }] }, /level "lenient"/],
      [{ version: '1.0', trustPolicies: [{ ...base, trustStores: ['x509:foo'] }] }, /must be ca:<name>/],
      [{ version: '1.0', trustPolicies: [{ ...base, trustedIdentities: ['CN=foo'] }] }, /must be '\*' or 'x509.subject/],
      [{ version: '1.0', trustPolicies: [{ ...base, trustedIdentities: ['x509.subject: O=A, O=B, CN=foo'] }] }, /must be '\*' or 'x509.subject/],
      [{ version: '1.0', trustPolicies: [base, { ...base, name: 'b' }] }, /scope '\*' appears in two policies/],
      [{ version: '1.0', trustPolicies: [{ ...base, signatureVerification: { level: 'strict', override: { integrity: 'log' } } }] }, /'integrity' cannot be overridden/],
    ];
    for (const [doc, message] of cases) {
      try {
        loadTrustPolicies(write(doc));
        expect.unreachable(`accepted ${JSON.stringify(doc)}`);
      } catch (err) {
        expect((err as { kind: string }).kind).toBe('usage');
        expect((err as Error).message).toMatch(message);
      }
    }
  });

  it('selects an exact registry scope before the wildcard', () => {
    const policies = loadTrustPolicies(write({ version: '1.0', trustPolicies: [base, { ...base, name: 'exact', registryScopes: ['reg.example/app'] }] }));
    expect(selectPolicy(policies, 'reg.example/app')!.name).toBe('exact');
    expect(selectPolicy(policies, 'reg.example/other')!.name).toBe('a');
  });
});
