import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { isOciError } from '../../src/errors.js';
import { renderFluxDocuments, writeFluxFile, type FluxSource } from '../../src/output/flux.js';
import { fluxDocumentProblems } from '../helpers/flux-crd-schema.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const base: FluxSource = { name: 'web', namespace: 'flux-system', repository: 'ghcr.io/org/web', digest: DIGEST, interval: '5m' };

async function render(...sources: FluxSource[]): Promise<Array<Record<string, any>>> {
  const text = await renderFluxDocuments(sources);
  return (parseAllDocuments(text, { strict: true }) as Array<{ errors: unknown[]; toJS(): Record<string, any> }>).map((doc) => {
    expect(doc.errors).toEqual([]);
    const value = doc.toJS();
    expect(fluxDocumentProblems(value)).toEqual([]);
    return value;
  });
}

describe('Flux manifests (output/flux.ts)', () => {
  it('an unsigned artifact: url without tag, the digest, the interval, nothing optional', async () => {
    const [source, ...rest] = await render(base);
    expect(rest).toEqual([]);
    expect(source).toEqual({
      apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', metadata: { name: 'web', namespace: 'flux-system' },
      spec: { url: 'oci://ghcr.io/org/web', ref: { digest: DIGEST }, interval: '5m' },
    });
  });

  it('verify per signing mode: cosign key (secretRef), keyless (exact identity), keyless with a private Sigstore', async () => {
    const [keyed] = await render({ ...base, verify: { kind: 'cosign-key' } });
    expect(keyed!.spec.verify).toEqual({ provider: 'cosign', secretRef: { name: 'web-cosign-pub' } });
    const identity = 'https://github.com/org/repo/.github/workflows/ci.yml@refs/heads/main';
    const [keyless] = await render({ ...base, verify: { kind: 'cosign-keyless', issuer: 'https://token.actions.githubusercontent.com', subject: identity, trustedRoot: false } });
    expect(keyless!.spec.verify).toEqual({
      provider: 'cosign',
      matchOIDCIdentity: [{ issuer: '^https://token\\.actions\\.githubusercontent\\.com$', subject: '^https://github\\.com/org/repo/\\.github/workflows/ci\\.yml@refs/heads/main$' }],
    });
    const pattern = new RegExp(keyless!.spec.verify.matchOIDCIdentity[0].subject as string);
    expect(pattern.test(identity)).toBe(true);
    expect(pattern.test(identity.replace('.yml', 'Xyml'))).toBe(false);
    expect(pattern.test(`${identity}x`)).toBe(false);
    const [privateSigstore] = await render({ ...base, verify: { kind: 'cosign-keyless', issuer: 'https://issuer', subject: 'me@example.com', trustedRoot: true } });
    expect(privateSigstore!.spec.verify.trustedRootSecretRef).toEqual({ name: 'web-trusted-root' });
  });

  it('the placeholders the user must create are said in comments', async () => {
    const text = await renderFluxDocuments([{ ...base, verify: { kind: 'cosign-key' } }]);
    expect(text).toContain('    # Create this Secret with the cosign public key before applying:\n    # kubectl -n flux-system create secret generic web-cosign-pub --from-file=cosign.pub=cosign.pub\n    secretRef:\n');
  });

  it('layerSelector only for a layer type that is not Flux\'s; provider only when not generic; insecure only for plain HTTP', async () => {
    const [flux] = await render({ ...base, layerMediaType: 'application/vnd.cncf.flux.content.v1.tar+gzip', provider: 'generic', insecure: false });
    expect(Object.keys(flux!.spec)).toEqual(['url', 'ref', 'interval']);
    const [oci] = await render({ ...base, layerMediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', provider: 'gcp', insecure: true });
    expect(oci!.spec).toMatchObject({
      provider: 'gcp', insecure: true, layerSelector: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', operation: 'extract' },
    });
  });

  it('a Kustomization after its OCIRepository with a path; several sources in order; the same input gives the same bytes', async () => {
    const sources = [{ ...base, kustomizationPath: './apps/web' }, { ...base, name: 'api', repository: 'ghcr.io/org/api' }];
    const docs = await render(...sources);
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['OCIRepository/web', 'Kustomization/web', 'OCIRepository/api']);
    expect(docs[1]!.spec).toEqual({ interval: '5m', sourceRef: { kind: 'OCIRepository', name: 'web' }, path: './apps/web', prune: true });
    expect(await renderFluxDocuments(sources)).toBe(await renderFluxDocuments(sources));
    await expect(renderFluxDocuments([base, base])).rejects.toThrow('two Flux objects would be named flux-system/web');
  });

  it('every string is double-quoted: a name YAML 1.1 reads as a boolean stays a string, a value cannot start a key', async () => {
    const text = await renderFluxDocuments([{ ...base, name: 'on', kustomizationPath: './a: b #c' }]);
    expect(text).toContain('  name: "on"\n');
    expect(text).toContain('  path: "./a: b #c"\n');
    const scalarLines = text.split('\n').filter((line) => /^\s*(- )?\w+: \S/.test(line));
    expect(scalarLines.length).toBeGreaterThan(8);
    for (const line of scalarLines) expect(line).toMatch(/: (".*"|true)$/);
  });

  it('refuses a keyless identity with a control character (it could not be matched as written)', async () => {
    await expect(renderFluxDocuments([{ ...base, verify: { kind: 'cosign-keyless', issuer: 'https://i', subject: 'a\u0085b', trustedRoot: false } }]))
      .rejects.toSatisfy((err) => isOciError(err, 'CERT_INVALID'));
  });
});

describe('writeFluxFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flux-write-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a new file, replaces a regular one in one rename, and leaves no temp file', async () => {
    const path = join(dir, 'flux.yaml');
    await writeFluxFile(path, 'one\n');
    expect(readFileSync(path, 'utf8')).toBe('one\n');
    await writeFluxFile(path, 'two\n');
    expect(readFileSync(path, 'utf8')).toBe('two\n');
    expect(readdirSync(dir)).toEqual(['flux.yaml']);
  });

  it('refuses a directory, a symbolic link and a missing parent, writing nothing', async () => {
    mkdirSync(join(dir, 'sub'));
    await expect(writeFluxFile(join(dir, 'sub'), 'x')).rejects.toSatisfy((err) => isOciError(err, 'PATH_NOT_REGULAR'));
    writeFileSync(join(dir, 'target'), 'kept');
    symlinkSync(join(dir, 'target'), join(dir, 'link'));
    await expect(writeFluxFile(join(dir, 'link'), 'x')).rejects.toSatisfy((err) => isOciError(err, 'PATH_NOT_REGULAR'));
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('kept');
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    await expect(writeFluxFile(join(dir, 'missing', 'flux.yaml'), 'x')).rejects.toSatisfy((err) => isOciError(err, 'FILE_UNWRITABLE'));
    expect(readdirSync(dir).sort()).toEqual(['flux.yaml', 'link', 'sub', 'target']);
  });
});
