import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON, bundleToJSON, type Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { CIContextProvider, DSSEBundleBuilder, FulcioSigner, MessageSignatureBundleBuilder, RekorWitness, type IdentityProvider } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWorkDir } from '../helpers/fixtures.js';
import { startSigstoreStandIns, type SigstoreStandIns } from '../helpers/sigstore-stand-ins.js';

/**
 * The Sigstore stand-ins (OIDC issuer with the GitHub Actions token endpoint, Fulcio v2, Rekor v1, trusted root)
 * played against sigstore-js's own signing clients and its verifier with every check on: certificate chain, SCT,
 * transparency log (SET and inclusion proof with a signed checkpoint), signature, identity.
 */
const work = useWorkDir('sigstore-stand-ins-');
let sigstore: SigstoreStandIns;

beforeAll(async () => {
  sigstore = await startSigstoreStandIns(work.path);
});
afterAll(async () => {
  await sigstore?.stop();
});

function builders(identityProvider: IdentityProvider) {
  const signer = new FulcioSigner({ fulcioBaseURL: sigstore.fulcio.url, identityProvider, retry: 0 });
  const witness = (entryType?: 'dsse') => new RekorWitness({ rekorBaseURL: sigstore.rekor.url, entryType, retry: 0 });
  return {
    message: new MessageSignatureBundleBuilder({ signer, witnesses: [witness()] }),
    dsse: new DSSEBundleBuilder({ signer, witnesses: [witness('dsse')] }),
  };
}

function verifyWithStandInRoot(bundle: Bundle, data?: Buffer) {
  const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(sigstore.trustedRootPath, 'utf8'))));
  // Default thresholds: one SCT, one tlog entry, one timestamp.
  return new Verifier(trust).verify(toSignedEntity(bundle, data), {
    subjectAlternativeName: sigstore.oidc.workflowIdentity(),
    extensions: { issuer: sigstore.oidc.url },
  });
}

/** The ambient GitHub Actions path: CIContextProvider asks the token endpoint named by the job's environment. */
async function withActionsEnv<T>(run: () => Promise<T>): Promise<T> {
  const env = sigstore.githubActionsEnv();
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await run();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('Sigstore stand-ins', () => {
  it('sign a message through the GitHub Actions token endpoint, Fulcio and Rekor; @sigstore/verify accepts it with every check on', async () => {
    const data = Buffer.from('a keyless signature over these bytes');
    const bundle = await withActionsEnv(() => builders(new CIContextProvider('sigstore')).message.create({ data }));
    expect(sigstore.oidc.tokenRequests.at(-1)).toEqual({ audience: 'sigstore', authorized: true });
    const entry = bundle.verificationMaterial.tlogEntries[0]!;
    expect(entry.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.1' });
    expect(entry.inclusionPromise?.signedEntryTimestamp.length).toBeGreaterThan(0);
    expect(entry.inclusionProof?.checkpoint?.envelope).toMatch(/^127\.0\.0\.1:\d+ - \d+\n\d+\n/);

    const signer = verifyWithStandInRoot(bundle, data);
    expect(signer.identity?.subjectAlternativeName).toBe('https://github.com/acme/config/.github/workflows/release.yml@refs/heads/main');
    expect(signer.identity?.extensions?.issuer).toBe(sigstore.oidc.url);
    // The GitHub workflow extensions Fulcio adds: repository (1.5, raw) and source repository URI (1.12, DER).
    const oid = (n: number) => signer.identity?.oids?.find((o) => o.oid?.id.join('.') === `1.3.6.1.4.1.57264.1.${n}`)?.value;
    expect(oid(5)?.toString()).toBe('acme/config');
    expect(oid(12)?.subarray(2).toString()).toBe('https://github.com/acme/config');

    expect(() => verifyWithStandInRoot(bundle, Buffer.from('other bytes'))).toThrow(/digest mismatch|signature/i);
  });

  it('sign a DSSE envelope with a token given directly; the dsse entry has a valid inclusion proof in a tree of several entries', async () => {
    const token = sigstore.oidc.issueToken();
    const b = builders({ getToken: async () => token });
    for (let i = 0; i < 4; i++) await b.message.create({ data: Buffer.from(`filler ${i}`) });
    const bundle = await b.dsse.create({ data: Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}'), type: 'application/vnd.in-toto+json' });
    const entry = bundle.verificationMaterial.tlogEntries[0]!;
    expect(entry.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    expect(Number(entry.inclusionProof?.treeSize)).toBeGreaterThan(4);
    expect(entry.inclusionProof!.hashes.length).toBeGreaterThan(1);
    verifyWithStandInRoot(bundle);

    // The inclusion proof is checked besides the SET: one changed proof hash, or a checkpoint signed by no
    // trusted log, and the entry is refused.
    const json = bundleToJSON(bundle) as any;
    const badHash = structuredClone(json);
    badHash.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0] = Buffer.alloc(32).toString('base64');
    expect(() => verifyWithStandInRoot(bundleFromJSON(badHash))).toThrow(/root hash/);
    const badCheckpoint = structuredClone(json);
    const envelope: string = badCheckpoint.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope;
    badCheckpoint.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope = envelope.replace(/\n(\d+)\n/, (_m, n) => `\n${Number(n) + 1}\n`);
    expect(() => verifyWithStandInRoot(bundleFromJSON(badCheckpoint))).toThrow(/checkpoint signature/);
  });

  it('Fulcio refuses a token of another audience, an unknown issuer, and a wrong proof of possession', async () => {
    const data = { data: Buffer.from('x') };
    await expect(builders({ getToken: async () => sigstore.oidc.issueToken({ aud: 'other' }) }).message.create(data)).rejects.toThrow(/certificate/i);
    await expect(builders({ getToken: async () => sigstore.oidc.issueToken({ iss: 'https://issuer.invalid' }) }).message.create(data)).rejects.toThrow(/certificate/i);
    const statuses = sigstore.fulcio.requests.slice(-2).map((r) => r.status);
    expect(statuses).toEqual([401, 401]);

    const res = await fetch(`${sigstore.fulcio.url}/api/v2/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        credentials: { oidcIdentityToken: sigstore.oidc.issueToken() },
        publicKeyRequest: {
          publicKey: { algorithm: 'ECDSA', content: readFileSync(new URL('../../fixtures/signatures/cosign-legacy-key/cosign.pub', import.meta.url), 'utf8') },
          proofOfPossession: Buffer.from('not a signature').toString('base64'),
        },
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/signature supplied in the request could not be verified/);
  });

  it('Rekor checks a hashedrekord signature against the digest and key, and refuses a second copy of an entry', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const entry = (data: string, signed: string) => ({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(data).digest('hex') } },
        signature: {
          content: sign('sha256', Buffer.from(signed), privateKey).toString('base64'),
          publicKey: { content: Buffer.from(publicKey.export({ format: 'pem', type: 'spki' })).toString('base64') },
        },
      },
    });
    const post = (body: unknown) => fetch(`${sigstore.rekor.url}/api/v1/log/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post(entry('signed bytes', 'other bytes'))).status).toBe(400);
    const ok = entry('signed bytes', 'signed bytes');
    const created = await post(ok);
    expect(created.status).toBe(201);
    const again = await post(ok);
    expect(again.status).toBe(409);
    expect(again.headers.get('location')).toBe(created.headers.get('location'));
    const uuid = created.headers.get('location')!.split('/').pop()!;
    const fetched = (await (await fetch(`${sigstore.rekor.url}/api/v1/log/entries/${uuid}`)).json()) as Record<string, { logIndex: number }>;
    expect(Object.keys(fetched)).toEqual([uuid]);
  });

  it('the token endpoint refuses a request without the job request token', async () => {
    const res = await fetch(`${sigstore.oidc.actionsEnv().ACTIONS_ID_TOKEN_REQUEST_URL}&audience=sigstore`);
    expect(res.status).toBe(401);
  });

  it('a signature made with another set of stand-ins does not verify with this trusted root', async () => {
    const otherDir = join(work.path, 'other');
    mkdirSync(otherDir);
    const other = await startSigstoreStandIns(otherDir);
    try {
      const token = other.oidc.issueToken();
      const signer = new FulcioSigner({ fulcioBaseURL: other.fulcio.url, identityProvider: { getToken: async () => token }, retry: 0 });
      const bundle = await new MessageSignatureBundleBuilder({ signer, witnesses: [new RekorWitness({ rekorBaseURL: other.rekor.url, retry: 0 })] }).create({ data: Buffer.from('y') });
      expect(() => verifyWithStandInRoot(bundle, Buffer.from('y'))).toThrow();
    } finally {
      await other.stop();
    }
  });
});
