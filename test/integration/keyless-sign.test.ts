import { readFileSync } from 'node:fs';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, type TrustMaterial } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository } from '../../src/ops/support/open-repository.js';
import type { Descriptor, ImageManifest, Repository } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseReference } from '../../src/ref/reference.js';
import { signArtifact, verifyArtifact, type KeylessOptions } from '../../src/signing/index.js';
import { pushSmallArtifact, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { startProxy, type ProxyRequest } from '../helpers/proxy.js';
import { startSigstoreStandIns, type SigstoreStandIns } from '../helpers/sigstore-stand-ins.js';
import { SIGNATURE_VECTORS } from '../helpers/vectors.js';

/**
 * Keyless signing (issue 14 item 1) through the Sigstore stand-ins, written to the real registry, then checked
 * three ways: our `verifyArtifact` with the stand-ins' trusted root (chain, SCT and Rekor entry all checked, no
 * threshold lowered), @sigstore/verify directly, and the shape of what cosign itself writes (the real vectors).
 */
const registry = useRegistry();
const work = useWorkDir('keyless-sign-');
let sigstore: SigstoreStandIns;
let trust: TrustMaterial;
const repos: Repository[] = [];

beforeAll(async () => {
  sigstore = await startSigstoreStandIns(work.path);
  trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(sigstore.trustedRootPath, 'utf8'))));
});
afterAll(async () => {
  await Promise.all(repos.map((r) => r.close()));
  await sigstore?.stop();
});

async function open(name: string): Promise<Repository> {
  const repo = await openRepository(parseReference(`oci://${registry.host}/${name}`), { insecure: true });
  repos.push(repo);
  return repo;
}

const keyless = (extra: Partial<KeylessOptions> = {}): KeylessOptions => ({
  identityToken: sigstore.oidc.issueToken(),
  fulcioUrl: sigstore.fulcio.url,
  rekorUrl: sigstore.rekor.url,
  trustedRootPath: sigstore.trustedRootPath,
  ...extra,
});

const policy = (identity: string) => ({
  provider: 'cosign' as const,
  certificateIdentity: identity,
  certificateOidcIssuer: sigstore.oidc.url,
  trustedRootPath: sigstore.trustedRootPath,
});

/** The key tree of a JSON value (types at the leaves), to compare with what cosign wrote. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shape(value[0])];
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shape(v)]));
  }
  return typeof value;
}

const vector = (path: string) => readFileSync(`${SIGNATURE_VECTORS}/${path}`, 'utf8');

describe('keyless signing against the stand-ins and the real registry', () => {
  it('legacy .sig: verifies for the workflow identity, fails for another, and @sigstore/verify agrees', async () => {
    const repo = await open('keyless/legacy');
    const subject = await pushSmallArtifact(repo);
    const written = await signArtifact(repo, subject, { keyless: keyless(), dockerReference: `${registry.host}/keyless/legacy` });
    const identity = sigstore.oidc.workflowIdentity();
    expect(written).toEqual({ kind: 'cosign-legacy', location: `sha256-${subject.digest.slice(7)}.sig`, signer: { identity, issuer: sigstore.oidc.url } });

    const ok = await verifyArtifact(repo, subject, policy(identity), { offline: true });
    expect(ok).toMatchObject({ verified: true, reason: '1 of 1 signature verified' });
    expect(ok.signatures[0]!.reason).toBe(`signed by ${identity} (issuer ${sigstore.oidc.url})`);
    const other = await verifyArtifact(repo, subject, policy('https://github.com/acme/other/.github/workflows/x.yml@refs/heads/main'), { offline: true });
    expect(other.verified).toBe(false);
    expect(other.signatures[0]!.reason).toMatch(/does not match/);

    // @sigstore/verify on the layer's parts, assembled here as a v0.1 bundle, with default thresholds.
    const sig = JSON.parse((await repo.getManifest(written.location)).bytes.toString()) as ImageManifest;
    const layer = sig.layers[0]!;
    const payload = await repo.fetchBlob(layer);
    const ann = layer.annotations!;
    const rekor = JSON.parse(ann['dev.sigstore.cosign/bundle']!);
    const body = JSON.parse(Buffer.from(rekor.Payload.body, 'base64').toString());
    const bundle = bundleFromJSON({
      mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
      verificationMaterial: {
        x509CertificateChain: { certificates: [{ rawBytes: ann['dev.sigstore.cosign/certificate']!.replace(/-----[A-Z ]+-----|\n/g, '') }] },
        tlogEntries: [{
          logIndex: String(rekor.Payload.logIndex),
          logId: { keyId: Buffer.from(rekor.Payload.logID, 'hex').toString('base64') },
          kindVersion: { kind: body.kind, version: body.apiVersion },
          integratedTime: String(rekor.Payload.integratedTime),
          inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp },
          canonicalizedBody: rekor.Payload.body,
        }],
        timestampVerificationData: { rfc3161Timestamps: [] },
      },
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: Buffer.from(digestOf(payload).slice(7), 'hex').toString('base64') }, signature: ann['dev.cosignproject.cosign/signature'] },
    });
    const signer = new Verifier(trust).verify(toSignedEntity(bundle, payload), { subjectAlternativeName: identity, extensions: { issuer: sigstore.oidc.url } });
    expect(signer.identity?.subjectAlternativeName).toBe(identity);
    expect(() => new Verifier(trust).verify(toSignedEntity(bundle, payload), { subjectAlternativeName: 'someone else' })).toThrow();

    // The shape cosign writes (fixtures/signatures/cosign-legacy-keyless).
    const realAnnotations = JSON.parse(vector('cosign-legacy-keyless/layer-annotations.json'));
    expect(Object.keys(ann)).toEqual(Object.keys(realAnnotations));
    expect(layer.mediaType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
    expect(shape(JSON.parse(payload.toString()))).toEqual({ ...(shape(JSON.parse(vector('cosign-legacy-keyless/payload.json'))) as object), optional: 'object' });
    expect(JSON.parse(payload.toString()).critical.identity['docker-reference']).toBe(`${registry.host}/keyless/legacy`);
    expect(shape(rekor)).toEqual(shape(JSON.parse(realAnnotations['dev.sigstore.cosign/bundle'])));
    const realBody = JSON.parse(Buffer.from(JSON.parse(realAnnotations['dev.sigstore.cosign/bundle']).Payload.body, 'base64').toString());
    expect(shape(body)).toEqual(shape(realBody));
    expect(Buffer.from(body.spec.signature.publicKey.content, 'base64').toString()).toBe(ann['dev.sigstore.cosign/certificate']);
    // PEM layout: the certificate ends with a newline; the chain is intermediate then root, no final newline.
    expect(ann['dev.sigstore.cosign/certificate']).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
    expect(realAnnotations['dev.sigstore.cosign/certificate']).toMatch(/\n-----END CERTIFICATE-----\n$/);
    expect(ann['dev.sigstore.cosign/chain']!.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(ann['dev.sigstore.cosign/chain']!.endsWith('-----END CERTIFICATE-----')).toBe(realAnnotations['dev.sigstore.cosign/chain'].endsWith('-----END CERTIFICATE-----'));
  });

  it('v3 bundle referrer: verifies with a dsse Rekor entry, fails for another identity, @sigstore/verify agrees, and has the vector shape', async () => {
    const repo = await open('keyless/bundle');
    const subject = await pushSmallArtifact(repo);
    const written = await signArtifact(repo, subject, { keyless: keyless(), format: 'bundle' });
    expect(written.kind).toBe('cosign-bundle');
    const identity = sigstore.oidc.workflowIdentity();
    expect((await verifyArtifact(repo, subject, policy(identity), { offline: true })).verified).toBe(true);
    expect((await verifyArtifact(repo, subject, policy(`${identity}x`), { offline: true })).verified).toBe(false);

    const index = JSON.parse((await repo.getManifest(`sha256-${subject.digest.slice(7)}`)).bytes.toString());
    expect(index.manifests.map((m: Descriptor) => m.digest)).toEqual([written.location]);
    const referrer = JSON.parse((await repo.getManifest(written.location)).bytes.toString()) as ImageManifest;
    expect(referrer).toMatchObject({ artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', subject, config: { mediaType: 'application/vnd.oci.empty.v1+json' } });
    const blob = JSON.parse((await repo.fetchBlob(referrer.layers[0]!)).toString());

    const bundle = bundleFromJSON(blob);
    const signer = new Verifier(trust).verify(toSignedEntity(bundle), { subjectAlternativeName: identity, extensions: { issuer: sigstore.oidc.url } });
    expect(signer.identity?.subjectAlternativeName).toBe(identity);
    const statement = JSON.parse(Buffer.from(blob.dsseEnvelope.payload, 'base64').toString());
    expect(statement.subject[0].digest.sha256).toBe(subject.digest.slice(7));
    expect(statement.predicateType).toBe('https://sigstore.dev/cosign/sign/v1');

    // The shape of cosign v3's bundle (fixtures/signatures/cosign-v3-bundle-dsse): same fields, same entry kind.
    const real = JSON.parse(vector('cosign-v3-bundle-dsse/bundle.sigstore.json'));
    expect(blob.mediaType).toBe(real.mediaType);
    expect(shape(blob)).toEqual(shape(real));
    expect(blob.verificationMaterial.tlogEntries[0].kindVersion).toEqual(real.verificationMaterial.tlogEntries[0].kindVersion);
    const body = (b: any) => JSON.parse(Buffer.from(b.verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64').toString());
    expect(shape(body(blob))).toEqual(shape(body(real)));
  });

  it('the GitHub Actions path: the token is asked from the runner endpoint with audience sigstore', async () => {
    const repo = await open('keyless/actions');
    const subject = await pushSmallArtifact(repo);
    const env = sigstore.githubActionsEnv();
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      const before = sigstore.oidc.tokenRequests.length;
      const written = await signArtifact(repo, subject, { keyless: keyless({ identityToken: undefined }) });
      expect(sigstore.oidc.tokenRequests.slice(before)).toEqual([{ audience: 'sigstore', authorized: true }]);
      expect(written.signer?.identity).toBe(sigstore.oidc.workflowIdentity());
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('writes nothing when the signature does not verify with the trusted root, when Fulcio refuses, or with a token from another issuer', async () => {
    const repo = await open('keyless/refused');
    const subject = await pushSmallArtifact(repo);
    const tagsBefore = await repo.listTags();
    const wrongRoot = `${SIGNATURE_VECTORS}/cosign-legacy-keyless/trusted_root.json`;
    await expect(signArtifact(repo, subject, { keyless: keyless({ trustedRootPath: wrongRoot }) })).rejects.toMatchObject({
      code: 'KEYLESS_UNTRUSTED',
      kind: 'usage',
    });
    await expect(signArtifact(repo, subject, { keyless: keyless({ identityToken: sigstore.oidc.issueToken({ aud: 'not-sigstore' }) }) })).rejects.toMatchObject({
      code: 'FULCIO_REFUSED',
      kind: 'auth',
      message: expect.stringMatching(/HTTP 401: There was an error processing the identity token: audience is not sigstore/),
    });
    await expect(signArtifact(repo, subject, { keyless: keyless({ oidcIssuer: 'https://token.actions.githubusercontent.com' }) })).rejects.toMatchObject({
      code: 'IDENTITY_TOKEN_ISSUER',
      message: `the identity token from --identity-token was issued by ${sigstore.oidc.url}, not https://token.actions.githubusercontent.com (--oidc-issuer)`,
    });
    expect(await repo.listTags()).toEqual(tagsBefore);
  });

  it('without a token, SIGSTORE_ID_TOKEN or the GitHub Actions variables: one usage line', async () => {
    const repo = await open('keyless/none');
    const subject = await pushSmallArtifact(repo);
    const names = ['SIGSTORE_ID_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
    const saved = Object.fromEntries(names.map((k) => [k, process.env[k]]));
    for (const k of names) delete process.env[k];
    try {
      await expect(signArtifact(repo, subject, { keyless: keyless({ identityToken: undefined }) })).rejects.toMatchObject({
        code: 'IDENTITY_TOKEN_MISSING',
        kind: 'usage',
        message: 'not in a CI with OIDC: pass --identity-token or --key',
      });
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    }
  });
});

describe('where the identity token goes', () => {
  it('only to Fulcio: no request to the registry or to Rekor carries it, in a header or a body (legacy and bundle)', async () => {
    const token = sigstore.oidc.issueToken();
    // The signature part of the JWT: no request may carry it, whole or as part of the token.
    const secret = token.split('.')[2]!;
    const carried: Record<'registry' | 'fulcio' | 'rekor', number> = { registry: 0, fulcio: 0, rekor: 0 };
    const requests: Record<'registry' | 'fulcio' | 'rekor', number> = { registry: 0, fulcio: 0, rekor: 0 };
    const record = (name: keyof typeof carried) => async (req: ProxyRequest) => {
      requests[name] += 1;
      const body = req.method === 'GET' || req.method === 'HEAD' ? '' : (await req.body()).toString('latin1');
      if (JSON.stringify(req.headers).includes(secret) || body.includes(secret)) carried[name] += 1;
      return undefined;
    };
    const proxies = await Promise.all([
      startProxy({ target: registry.host, onRequest: record('registry') }),
      startProxy({ target: new URL(sigstore.fulcio.url).host, onRequest: record('fulcio') }),
      startProxy({ target: new URL(sigstore.rekor.url).host, onRequest: record('rekor') }),
    ]);
    const [registryProxy, fulcio, rekor] = proxies;
    try {
      const repo = await openRepository(parseReference(`oci://${registryProxy!.host}/keyless/token-scope`), { insecure: true });
      repos.push(repo);
      const subject = await pushSmallArtifact(repo);
      const options = keyless({ identityToken: token, fulcioUrl: fulcio!.url, rekorUrl: rekor!.url });
      for (const format of ['legacy', 'bundle'] as const) {
        await signArtifact(repo, subject, { keyless: options, format, dockerReference: `${registryProxy!.host}/keyless/token-scope` });
      }
      expect(requests.registry).toBeGreaterThan(4);
      expect(requests.rekor).toBe(2);
      expect(carried).toEqual({ registry: 0, fulcio: 2, rekor: 0 });
    } finally {
      await Promise.all(proxies.map((p) => p.stop()));
    }
  });

  it('never over plain HTTP to a host that is not loopback: refused before any request, for Fulcio and Rekor', async () => {
    const repo = await open('keyless/plain-http');
    const subject = await pushSmallArtifact(repo);
    const fulcioBefore = sigstore.fulcio.requests.length;
    for (const services of [{ fulcioUrl: 'http://fulcio.example.com' }, { rekorUrl: 'http://rekor.example.com/' }]) {
      const attempt = signArtifact(repo, subject, { keyless: keyless(services), dockerReference: `${registry.host}/keyless/plain-http` });
      await expect(attempt).rejects.toMatchObject({ code: 'FLAG_INVALID', kind: 'usage', message: expect.stringMatching(/is plain HTTP/) });
    }
    expect(sigstore.fulcio.requests.length).toBe(fulcioBefore);
    expect(await repo.listTags()).toEqual(['v1']);
  });
});
