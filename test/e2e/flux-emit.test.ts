import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { fluxDocumentProblems } from '../helpers/flux-crd-schema.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, resolveTag, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { startSigstoreStandIns, type SigstoreStandIns } from '../helpers/sigstore-stand-ins.js';

/**
 * `push --emit-flux FILE` and `-o flux` with the built CLI against the real registry: the written OCIRepository is
 * pinned to the digest the tag holds (read back through the library), also when --if-changed skipped the push; its
 * verify block follows how the push signed (key, keyless with the identity the stand-in Fulcio certified); a
 * Kustomization follows with --flux-path; `push --all` writes one per artifact. Every document is parsed back and
 * checked against the CRD fields (test/helpers/flux-crd-schema.ts: no API server is reachable for kubectl).
 */
const registry = useRegistry();
const work = useWorkDir('flux-emit-');
let sigstore: SigstoreStandIns;
let keys: { key: string; pub: string };

beforeAll(async () => {
  sigstore = await startSigstoreStandIns(work.path);
  keys = { key: join(work.path, 'cosign.key'), pub: join(work.path, 'cosign.pub') };
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keys.key], { stdio: 'pipe' });
});
afterAll(async () => {
  await sigstore?.stop();
});

const ref = (repo: string, tag = 'v1') => `oci://${registry.host}/${repo}:${tag}`;
const fileIn = (name: string) => join(work.path, name);

type FluxDoc = { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: Record<string, any> };

/** Every document of `text`, parsed strictly and checked against the CRD fields. */
function parseFlux(text: string): FluxDoc[] {
  const docs = parseAllDocuments(text, { strict: true, uniqueKeys: true });
  if (!Array.isArray(docs)) throw new Error('no documents');
  return docs.map((doc) => {
    expect(doc.errors).toEqual([]);
    const value = doc.toJS() as FluxDoc;
    expect(fluxDocumentProblems(value)).toEqual([]);
    return value;
  });
}

describe('push --emit-flux', () => {
  it('writes an OCIRepository pinned to the tag\'s digest and a Kustomization for --flux-path; -o flux prints the same', async () => {
    const reference = ref('team/web_app', 'prod');
    const out = fileIn('web.yaml');
    const pushed = await runCli(['push', reference, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--emit-flux', out, '--flux-path', 'overlays/prod', '--flux-interval', '10m']);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toContain(`to ${out}`);
    const digest = await resolveTag(reference);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const text = readFileSync(out, 'utf8');
    const [source, kustomization, ...rest] = parseFlux(text);
    expect(rest).toEqual([]);
    expect(source).toEqual({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'web-app', namespace: 'flux-system' },
      // The test registry is plain HTTP on loopback: Flux must be told.
      spec: { url: `oci://${registry.host}/team/web_app`, ref: { digest }, interval: '10m', insecure: true },
    });
    expect(kustomization).toEqual({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'web-app', namespace: 'flux-system' },
      spec: { interval: '10m', sourceRef: { kind: 'OCIRepository', name: 'web-app' }, path: './overlays/prod', prune: true },
    });

    // Unchanged content, pushed with --if-changed: nothing is pushed and the same digest is pinned, on stdout.
    const again = await runCli(['push', reference, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--if-changed', '-o', 'flux', '--flux-path', 'overlays/prod', '--flux-interval', '10m']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('unchanged');
    expect(again.stdout).toBe(text);
  });

  it('verify follows a cosign key (secretRef to create, said in a comment); layerSelector only for a non-Flux layer type', async () => {
    const reference = ref('keyed/app');
    const out = fileIn('keyed.yaml');
    const args = ['push', reference, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--sign', '--key', keys.key, '--if-changed', '--emit-flux', out,
      '--flux-name', 'app.prod', '--flux-namespace', 'apps', '--layer-media-type', 'application/vnd.oci.image.layer.v1.tar+gzip'];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    const [source] = parseFlux(text);
    expect(source!.metadata).toEqual({ name: 'app.prod', namespace: 'apps' });
    expect(source!.spec).toMatchObject({
      ref: { digest: await resolveTag(reference) },
      layerSelector: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', operation: 'extract' },
      verify: { provider: 'cosign', secretRef: { name: 'app.prod-cosign-pub' } },
    });
    expect(text).toContain('# Create this Secret with the cosign public key before applying:');
    expect(text).toContain('kubectl -n apps create secret generic app.prod-cosign-pub');

    // Skipped by --if-changed: the file is written again, the same, the existing digest pinned and the key kept.
    writeFileSync(out, 'old\n');
    const skipped = await runCli(args);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain('unchanged');
    expect(readFileSync(out, 'utf8')).toBe(text);
  });

  it('verify of a keyless push matches exactly the identity and issuer Fulcio certified; a skipped keyless push writes nothing', async () => {
    const reference = ref('keyless/app');
    const out = fileIn('keyless.yaml');
    const services = ['--fulcio-url', sigstore.fulcio.url, '--rekor-url', sigstore.rekor.url, '--trusted-root', sigstore.trustedRootPath];
    const args = ['push', reference, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--sign', ...services, '--if-changed', '--emit-flux', out];
    const pushed = await runCli(args, { env: sigstore.githubActionsEnv() });
    expect(pushed.code, pushed.stderr).toBe(0);
    const [source] = parseFlux(readFileSync(out, 'utf8'));
    const quote = (text: string) => `^${text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')}$`;
    expect(source!.spec.verify).toEqual({
      provider: 'cosign',
      matchOIDCIdentity: [{ issuer: quote(sigstore.oidc.url), subject: quote(sigstore.oidc.workflowIdentity()) }],
      trustedRootSecretRef: { name: 'app-trusted-root' },
    });
    // The patterns are Go regular expressions matching the identity itself (RE2 and JS agree on these escapes).
    expect(new RegExp(source!.spec.verify.matchOIDCIdentity[0].subject).test(sigstore.oidc.workflowIdentity())).toBe(true);

    // Unchanged: nothing is signed, so no certificate says which identity to pin: an error, and the file is kept.
    const before = readFileSync(out, 'utf8');
    const skipped = await runCli(args, { env: sigstore.githubActionsEnv() });
    expect(skipped.code).toBe(2);
    expect(skipped.stderr).toContain('no identity is known for spec.verify');
    expect(readFileSync(out, 'utf8')).toBe(before);
  });

  it('refuses a target that is not a regular file, an OCI layout and Flux flags without Flux output, writing nothing', async () => {
    const dir = fileIn('a-directory');
    mkdirSync(dir);
    const intoDir = await runCli(['push', ref('refused/dir'), '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--emit-flux', dir]);
    expect(intoDir.code).toBe(2);
    expect(intoDir.stderr).toContain('exists and is not a regular file');
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(work.path).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(await resolveTag(ref('refused/dir'))).toBeUndefined(); // refused before anything was pushed

    const link = fileIn('link.yaml');
    writeFileSync(fileIn('target.yaml'), 'kept\n');
    symlinkSync(fileIn('target.yaml'), link);
    const throughLink = await runCli(['push', ref('refused/link'), '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--emit-flux', link]);
    expect(throughLink.code).toBe(2);
    expect(readFileSync(fileIn('target.yaml'), 'utf8')).toBe('kept\n');

    const layout = await runCli(['push', `oci-layout://${fileIn('store')}:v1`, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '-o', 'flux']);
    expect(layout.code).toBe(2);
    expect(layout.stderr).toContain('not from an OCI layout');
    expect(existsSync(fileIn('store'))).toBe(false);

    const alone = await runCli(['push', ref('refused/alone'), '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--flux-path', 'base']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--flux-path acts only with --emit-flux or -o flux');
    const badPath = await runCli(['push', ref('refused/path'), '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '-o', 'flux', '--flux-path', '../etc']);
    expect(badPath.code).toBe(2);
    expect(badPath.stderr.trim().split('\n')[0]).toContain("--flux-path '../etc' is not a path inside the artifact");
    expect(await resolveTag(ref('refused/path'))).toBeUndefined();
  });

  it('push --all writes one OCIRepository per artifact, named after it, with flux: keys from oci-artifact.yaml', async () => {
    const repo = fileIn('monorepo');
    mkdirSync(join(repo, 'web'), { recursive: true });
    mkdirSync(join(repo, 'api'), { recursive: true });
    writeFileSync(join(repo, 'web', 'cm.yaml'), 'kind: ConfigMap\nmetadata: { name: web }\n');
    writeFileSync(join(repo, 'api', 'cm.yaml'), 'kind: ConfigMap\nmetadata: { name: api }\n');
    writeFileSync(join(repo, 'oci-artifact.yaml'), [
      'version: 1',
      'artifacts:',
      `  - { name: web_prod, reference: "oci://${registry.host}/mono/web:prod", sources: [web] }`,
      `  - { name: api-prod, reference: "oci://${registry.host}/mono/api:prod", sources: [api:deploy], flux: { path: deploy, namespace: apps, interval: 1h } }`,
      '',
    ].join('\n'));
    const out = join(repo, 'flux.yaml');
    const r = await runCli(['push', '--all', ...PROVENANCE, '--emit-flux', out], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const docs = parseFlux(readFileSync(out, 'utf8'));
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`)).toEqual([
      'OCIRepository flux-system/web-prod', 'OCIRepository apps/api-prod', 'Kustomization apps/api-prod',
    ]);
    expect(docs[0]!.spec.ref.digest).toBe(await resolveTag(`oci://${registry.host}/mono/web:prod`));
    expect(docs[1]!.spec.ref.digest).toBe(await resolveTag(`oci://${registry.host}/mono/api:prod`));
    expect(docs[2]!.spec).toMatchObject({ path: './deploy', interval: '1h' });

    // Unchanged on the second run: the same file, printed with -o flux.
    const again = await runCli(['push', '--all', ...PROVENANCE, '-o', 'flux'], { cwd: repo });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(readFileSync(out, 'utf8'));
  });
});
