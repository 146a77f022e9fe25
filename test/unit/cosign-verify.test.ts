import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { verifyBundleBlob, verifyLegacyLayer, type CosignContext, type LegacyLayer } from '../../src/signing/cosign-verify.js';
import { loadPublicKeyFile } from '../../src/signing/keys.js';
import { verifyRekorAnnotation } from '../../src/signing/rekor.js';
import { loadTrustedRootFile, rekorAuthority } from '../../src/signing/trust.js';
import { SIGNATURE_VECTORS } from '../helpers/vectors.js';

const ATTESTATION_V1 = 'https://cosign.sigstore.dev/attestation/v1';

const FX = SIGNATURE_VECTORS;
const read = (p: string) => readFileSync(`${FX}/${p}`);
const text = (p: string) => readFileSync(`${FX}/${p}`, 'utf8');

const KEY_DIGEST = 'sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00';
const REKOR_DIGEST = 'sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a';
const BUNDLE_DIGEST = 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4';
const OTHER_DIGEST = `sha256:${'ab'.repeat(32)}`;

function layer(folder: string, patch: { payload?: Buffer; annotations?: Record<string, string> } = {}): LegacyLayer {
  return {
    source: 'sha256-x.sig[0]',
    payload: patch.payload ?? read(`${folder}/payload.json`),
    annotations: patch.annotations ?? JSON.parse(text(`${folder}/layer-annotations.json`)),
  };
}

function flip(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at] ^= 1;
  return copy;
}

const keyCtx = (digest: string, keyPath: string, extra: Partial<CosignContext> = {}): CosignContext => ({
  subjectDigest: digest,
  keys: [loadPublicKeyFile(`${FX}/${keyPath}`)],
  ...extra,
});

describe('Rekor entry body (log key made here, so each field can be wrong under a valid SET)', () => {
  const log = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const payload = Buffer.from('{"critical":{}}');
  const signature = sign('sha256', payload, signer.privateKey);
  const authority = rekorAuthority(log.publicKey);
  const logID = authority.logID.toString('hex');

  function annotation(spec: { hash?: string; signature?: Buffer; publicKey?: string }): string {
    const pem = spec.publicKey ?? (signer.publicKey.export({ type: 'spki', format: 'pem' }) as string);
    const body = Buffer.from(JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: spec.hash ?? createHash('sha256').update(payload).digest('hex') } },
        signature: { content: (spec.signature ?? signature).toString('base64'), publicKey: { content: Buffer.from(pem).toString('base64') } },
      },
    })).toString('base64');
    const fields = { body, integratedTime: 1700000000, logID, logIndex: 7 };
    const set = sign('sha256', Buffer.from(JSON.stringify(fields)), log.privateKey).toString('base64');
    return JSON.stringify({ SignedEntryTimestamp: set, Payload: fields });
  }

  it('accepts the entry for this signature and rejects another payload, signature or key', () => {
    expect(verifyRekorAnnotation(annotation({}), payload, signature, signer.publicKey, [authority])).toMatchObject({ ok: true, logIndex: 7 });
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const cases: [string, string][] = [
      [annotation({ hash: '00'.repeat(32) }), 'Rekor entry records a different payload hash'],
      [annotation({ signature: Buffer.from('other') }), 'Rekor entry records a different signature'],
      [annotation({ publicKey: other }), 'Rekor entry records a different public key'],
      [annotation({ publicKey: 'not a key' }), 'Rekor entry public key is unreadable'],
    ];
    for (const [ann, reason] of cases) {
      expect(verifyRekorAnnotation(ann, payload, signature, signer.publicKey, [authority])).toEqual({ ok: false, reason });
    }
  });
});

describe('cosign legacy, keyed', () => {
  it('verifies the real cosign signature with cosign.pub', () => {
    const r = verifyLegacyLayer(layer('cosign-legacy-key'), keyCtx(KEY_DIGEST, 'cosign-legacy-key/cosign.pub'));
    expect(r).toMatchObject({ kind: 'cosign-legacy', verified: true, reason: 'signed by key cosign.pub' });
    expect(r.signer).toMatch(/^SHA256:[0-9a-f]{64}$/);
  });

  it('rejects a payload with one flipped byte', () => {
    const payload = flip(read('cosign-legacy-key/payload.json'), 30);
    const r = verifyLegacyLayer(layer('cosign-legacy-key', { payload }), keyCtx(KEY_DIGEST, 'cosign-legacy-key/cosign.pub'));
    expect(r).toMatchObject({ verified: false, reason: 'signature does not match key cosign.pub' });
  });

  it('rejects a flipped signature byte', () => {
    const ann = JSON.parse(text('cosign-legacy-key/layer-annotations.json'));
    const sig = flip(Buffer.from(ann['dev.cosignproject.cosign/signature'], 'base64'), 40);
    const r = verifyLegacyLayer(
      layer('cosign-legacy-key', { annotations: { 'dev.cosignproject.cosign/signature': sig.toString('base64') } }),
      keyCtx(KEY_DIGEST, 'cosign-legacy-key/cosign.pub'),
    );
    expect(r.verified).toBe(false);
  });

  it("rejects another folder's key", () => {
    const r = verifyLegacyLayer(layer('cosign-legacy-key'), keyCtx(KEY_DIGEST, 'cosign-legacy-key-rekor/cosign.pub'));
    expect(r).toMatchObject({ verified: false, reason: 'signature does not match key cosign.pub' });
  });

  it('rejects a valid signature whose payload names another digest', () => {
    const r = verifyLegacyLayer(layer('cosign-legacy-key'), keyCtx(OTHER_DIGEST, 'cosign-legacy-key/cosign.pub'));
    expect(r).toMatchObject({ verified: false, reason: 'payload names sha256:634a8f35b5f1…, not the artifact' });
  });

  it('tries every key and reports the one that matched', () => {
    const ctx: CosignContext = {
      subjectDigest: KEY_DIGEST,
      keys: [loadPublicKeyFile(`${FX}/cosign-legacy-key-rekor/cosign.pub`), loadPublicKeyFile(`${FX}/cosign-legacy-key/cosign.pub`)],
    };
    expect(verifyLegacyLayer(layer('cosign-legacy-key'), ctx).verified).toBe(true);
  });
});

describe('cosign legacy, keyed with Rekor', () => {
  const rekorKey = createPublicKey(text('cosign-legacy-key-rekor/rekor.pub'));

  it('ignores the log when no Rekor key or trusted root is given', () => {
    const r = verifyLegacyLayer(layer('cosign-legacy-key-rekor'), keyCtx(REKOR_DIGEST, 'cosign-legacy-key-rekor/cosign.pub'));
    expect(r).toMatchObject({ verified: true, reason: 'signed by key cosign.pub' });
  });

  it('checks the SET and body with --rekor-public-key', () => {
    const r = verifyLegacyLayer(
      layer('cosign-legacy-key-rekor'),
      keyCtx(REKOR_DIGEST, 'cosign-legacy-key-rekor/cosign.pub', { keyedTlogs: [rekorAuthority(rekorKey)] }),
    );
    expect(r.verified).toBe(true);
    expect(r.reason).toBe('signed by key cosign.pub, in Rekor (index 11608800, 2023-01-20T21:57:39.000Z)');
  });

  it('checks the SET with the logs of trusted_root.json', () => {
    const trust = loadTrustedRootFile(`${FX}/cosign-legacy-key-rekor/trusted_root.json`);
    const r = verifyLegacyLayer(layer('cosign-legacy-key-rekor'), keyCtx(REKOR_DIGEST, 'cosign-legacy-key-rekor/cosign.pub', { keyedTlogs: trust.tlogs }));
    expect(r.verified).toBe(true);
  });

  it('rejects a tampered SET, a log it does not trust, and a missing entry', () => {
    const ann = JSON.parse(text('cosign-legacy-key-rekor/layer-annotations.json'));
    const bundle = JSON.parse(ann['dev.sigstore.cosign/bundle']);
    bundle.Payload.integratedTime += 1;
    const tampered = { ...ann, 'dev.sigstore.cosign/bundle': JSON.stringify(bundle) };
    const ctx = keyCtx(REKOR_DIGEST, 'cosign-legacy-key-rekor/cosign.pub', { keyedTlogs: [rekorAuthority(rekorKey)] });
    expect(verifyLegacyLayer(layer('cosign-legacy-key-rekor', { annotations: tampered }), ctx).reason).toBe(
      'Rekor signed entry timestamp does not verify with the log key',
    );
    const otherLog = keyCtx(REKOR_DIGEST, 'cosign-legacy-key-rekor/cosign.pub', {
      keyedTlogs: [rekorAuthority(loadPublicKeyFile(`${FX}/cosign-legacy-key/cosign.pub`).key)],
    });
    expect(verifyLegacyLayer(layer('cosign-legacy-key-rekor'), otherLog).reason).toMatch(/^Rekor entry is from log c0d23d6ad406973f…, which is not trusted$/);
    const noBundle = { 'dev.cosignproject.cosign/signature': ann['dev.cosignproject.cosign/signature'] };
    expect(verifyLegacyLayer(layer('cosign-legacy-key-rekor', { annotations: noBundle }), ctx).reason).toMatch(/^no Rekor entry/);
  });
});

describe('cosign legacy, keyless', () => {
  const trust = loadTrustedRootFile(`${FX}/cosign-legacy-keyless/trusted_root.json`);
  const ctx = (identity: CosignContext['identity'], digest = REKOR_DIGEST): CosignContext => ({ subjectDigest: digest, keys: [], identity, trust });

  it('verifies chain, SCT, SET, identity and issuer offline', () => {
    const r = verifyLegacyLayer(layer('cosign-legacy-keyless'), ctx({ identity: 'mitr@redhat.com', issuer: 'https://github.com/login/oauth' }));
    expect(r).toMatchObject({ verified: true, signer: 'mitr@redhat.com', reason: 'signed by mitr@redhat.com (issuer https://github.com/login/oauth)' });
  });

  it('matches regexes unanchored, like Go', () => {
    expect(verifyLegacyLayer(layer('cosign-legacy-keyless'), ctx({ identityRegexp: 'redhat\\.com', issuerRegexp: 'github' })).verified).toBe(true);
  });

  it('rejects identity and issuer mismatches', () => {
    const a = verifyLegacyLayer(layer('cosign-legacy-keyless'), ctx({ identity: 'someone@example.com', issuer: 'https://github.com/login/oauth' }));
    expect(a).toMatchObject({ verified: false, reason: 'certificate identity mitr@redhat.com does not match someone@example.com' });
    const b = verifyLegacyLayer(layer('cosign-legacy-keyless'), ctx({ identity: 'mitr@redhat.com', issuerRegexp: '^https://accounts\\.google\\.com$' }));
    expect(b.reason).toBe('certificate OIDC issuer https://github.com/login/oauth does not match /^https://accounts\\.google\\.com$/');
  });

  it('rejects another digest and a flipped payload', () => {
    const policy = { identity: 'mitr@redhat.com', issuer: 'https://github.com/login/oauth' };
    expect(verifyLegacyLayer(layer('cosign-legacy-keyless'), ctx(policy, OTHER_DIGEST)).reason).toBe('payload names sha256:0489474da8ea…, not the artifact');
    const payload = flip(read('cosign-legacy-keyless/payload.json'), 20);
    expect(verifyLegacyLayer(layer('cosign-legacy-keyless', { payload }), ctx(policy)).verified).toBe(false);
  });

  it('rejects a signature without its Rekor entry (tlog required)', () => {
    const ann = JSON.parse(text('cosign-legacy-keyless/layer-annotations.json'));
    delete ann['dev.sigstore.cosign/bundle'];
    const r = verifyLegacyLayer(layer('cosign-legacy-keyless', { annotations: ann }), ctx({ identity: 'mitr@redhat.com', issuer: 'https://github.com/login/oauth' }));
    expect(r.verified).toBe(false);
  });

  it('a keyed signature under a keyless policy says to use --key', () => {
    const r = verifyLegacyLayer(layer('cosign-legacy-key'), ctx({ identity: 'x', issuer: 'y' }, KEY_DIGEST));
    expect(r.reason).toBe('signature has no certificate (signed with a key: verify with --key)');
  });
});

describe('cosign v3 bundle (DSSE)', () => {
  const trust = loadTrustedRootFile(`${FX}/cosign-v3-bundle-dsse/trusted_root.json`);
  const blob = read('cosign-v3-bundle-dsse/bundle.sigstore.json');
  const policy = { identity: 'cody@soyland.com', issuer: 'https://github.com/login/oauth' };
  const ctx = (digest = BUNDLE_DIGEST, identity = policy): CosignContext => ({ subjectDigest: digest, keys: [], identity, trust });

  it('verifies offline with trusted_root.json and the identity policy, as the attestation it is', () => {
    const r = verifyBundleBlob('sha256:ref', blob, ctx(), ATTESTATION_V1);
    expect(r).toMatchObject({ kind: 'cosign-bundle', verified: true, signer: 'cody@soyland.com' });
  });

  it('never counts an attestation as a signature, nor one predicate as another', () => {
    expect(verifyBundleBlob('s', blob, ctx())).toMatchObject({
      verified: false,
      reason: 'bundle is an attestation (predicate https://cosign.sigstore.dev/attestation/v1), not a signature: check it with verify --attestation',
    });
    expect(verifyBundleBlob('s', blob, ctx(), 'https://slsa.dev/provenance/v1').reason).toBe(
      "bundle's statement has predicate https://cosign.sigstore.dev/attestation/v1, not https://slsa.dev/provenance/v1",
    );
  });

  it('rejects another digest, another identity and a modified DSSE payload', () => {
    expect(verifyBundleBlob('s', blob, ctx(OTHER_DIGEST), ATTESTATION_V1).reason).toBe('statement subject names sha256:732112270d7e…, not the artifact');
    expect(verifyBundleBlob('s', blob, ctx(BUNDLE_DIGEST, { ...policy, identity: 'mallory@example.com' }), ATTESTATION_V1).verified).toBe(false);
    const json = JSON.parse(blob.toString());
    const payload = Buffer.from(json.dsseEnvelope.payload, 'base64').toString().replace('"foo', '"fox');
    json.dsseEnvelope.payload = Buffer.from(payload).toString('base64');
    const r = verifyBundleBlob('s', Buffer.from(JSON.stringify(json)), ctx(), ATTESTATION_V1);
    expect(r.verified).toBe(false);
    expect(r.reason).toMatch(/transparency log|signature/);
  });

  it('a keyless bundle under a keyed policy says so', () => {
    const r = verifyBundleBlob('s', blob, { subjectDigest: BUNDLE_DIGEST, keys: [loadPublicKeyFile(`${FX}/cosign-legacy-key/cosign.pub`)] }, ATTESTATION_V1);
    expect(r.reason).toMatch(/^bundle is signed with a certificate \(keyless\)/);
  });
});
