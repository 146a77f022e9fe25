import { createServer, type Server } from 'node:net';
import { gzipSync } from 'node:zlib';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Header } from 'tar';
import { describe, expect, it } from 'vitest';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseReference } from '../../src/ref/reference.js';
import { runCli, snapshotTree, type CliResult } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';

const CANARY = 'canary-Pa55word-7f3e1c';

const plain = useRegistry();
const secured = useRegistry({ htpasswd: { username: 'alice', password: CANARY } });
const work = useWorkDir();

/** One line on stderr starting with ✗, nothing on stdout, the expected exit code, no stack trace. */
function expectCleanFailure(r: CliResult, code: number, pattern: RegExp): void {
  expect(r.code).toBe(code);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('✗'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
}

/** A gzip'd tar holding exactly the given raw entries (built here, so any name or type is possible). */
function hostileTarball(entries: Array<{ path: string; type?: string; body?: string; linkpath?: string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const header = new Header({ path: e.path, type: (e.type ?? 'File') as never, size: e.type && e.type !== 'File' ? 0 : body.length, mode: 0o644, mtime: new Date(0), linkpath: e.linkpath });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (body.length > 0 && (!e.type || e.type === 'File')) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** Push an arbitrary layer as a Flux artifact through the library (the CLI would never produce it). */
async function pushRawArtifact(reference: string, layerBytes: Buffer): Promise<void> {
  const repo = await openRepository(parseReference(reference), { create: true });
  const config = Buffer.from('{}');
  const layer = { mediaType: MediaType.FluxContent, digest: digestOf(layerBytes), size: layerBytes.length };
  const configDesc = { mediaType: MediaType.FluxConfig, digest: digestOf(config), size: config.length };
  await repo.pushBlob(layer, layerBytes);
  await repo.pushBlob(configDesc, config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: [layer] }));
  await repo.putManifest(parseReference(reference).tag ?? 'latest', manifest, MediaType.OciManifest);
  await repo.close();
}

describe('bad input fails with one clear line and exit code', () => {
  it.each([
    [['push', 'ghcr.io/no/scheme:v1', '-f', '.'], /must start with 'oci:\/\/'/],
    [['push', 'oci://ghcr.io/Upper/case:v1', '-f', '.'], /must be lower-case/],
    [['pull', 'oci://r.io/app@sha256:abc', '-o', 'x'], /64 lower-case hex/],
    [['push', 'oci://r.io/app:v1', '-f', '/definitely/not/here', ...PROVENANCE], /path '\/definitely\/not\/here' does not exist/],
    [['push', 'oci://r.io/app:v1', '-f', '.', '-a', 'novalue', ...PROVENANCE], /annotation/i],
    [['push', 'oci://r.io/app:v1', '-f', '.', '--timeout', 'soon', ...PROVENANCE], /invalid duration 'soon'/],
    [['push', 'oci://r.io/app:v1'], /required option/],
    [['push', 'oci://r.io/app:v1', '-f', '-', '--creds', 'u', '--password-stdin', ...PROVENANCE], /stdin cannot carry both/],
    [['frobnicate'], /unknown command/],
  ])('%j', async (args, pattern) => {
    expectCleanFailure(await runCli(args as string[]), 2, pattern);
  });

  it('refuses an output path that is a file', async () => {
    const file = join(work.path, 'a-file');
    await writeFile(file, 'keep me');
    expectCleanFailure(await runCli(['pull', `oci://${plain.host}/x:v1`, '-o', file]), 2, /is not a directory/);
    expect(await readFile(file, 'utf8')).toBe('keep me');
  });

  it('asks for --source/--revision outside git and CI', async () => {
    const dir = join(work.path, 'nogit');
    await mkdir(dir);
    await writeFile(join(dir, 'a.yaml'), 'a: 1\n');
    const r = await runCli(['push', `oci://${plain.host}/nogit:v1`, '-f', '.'], { cwd: dir, env: { GIT_CEILING_DIRECTORIES: work.path } });
    expectCleanFailure(r, 2, /--source is required/);
  });
});

describe('registry failures', () => {
  it('names an unreachable registry', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const out = join(work.path, 'unreachable-out');
    const r = await runCli(['pull', `oci://127.0.0.1:${port}/app:v1`, '-o', out]);
    expectCleanFailure(r, 3, new RegExp(`127\\.0\\.0\\.1:${port}`));
    await expect(readdir(out)).rejects.toThrow();
  });

  it('reports an unknown tag', async () => {
    const r = await runCli(['pull', `oci://${plain.host}/nothing/here:v9`, '-o', join(work.path, 'nothing')]);
    expectCleanFailure(r, 3, /unknown|not found/i);
  });

  it('lists the registry\'s error entries with --debug', async () => {
    const r = await runCli(['--debug', 'pull', `oci://${plain.host}/nothing/here:v9`, '-o', join(work.path, 'nothing-debug')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^details of MANIFEST_UNKNOWN: \{"status":404,"errors":\[\{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"/m);
  });

  it('fails at once on wrong credentials and never prints the password', async () => {
    const wrong = await runCli(['push', `oci://${secured.host}/auth:v1`, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--creds', `alice:${CANARY}x`]);
    expectCleanFailure(wrong, 4, /auth|unauthori[sz]ed|credentials/i);
    expect(wrong.stderr + wrong.stdout).not.toContain(CANARY);

    const none = await runCli(['pull', `oci://${secured.host}/auth:v1`, '-o', join(work.path, 'auth-none')]);
    expectCleanFailure(none, 4, /auth|unauthori[sz]ed|credentials/i);

    const right = await runCli(['push', `oci://${secured.host}/auth:v1`, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--creds', `alice:${CANARY}`, '--verbose']);
    expect(right.code).toBe(0);
    expect(right.stderr + right.stdout).not.toContain(CANARY);
  });

  it('detects a corrupted blob and leaves the output untouched', async () => {
    const pushed = await runCli(['push', `oci://${plain.host}/corrupt:v1`, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '-o', 'json']);
    expect(pushed.code).toBe(0);
    // Find the layer's data file in the registry's storage and flip bytes in it.
    const out = join(work.path, 'corrupt-out');
    await mkdir(out);
    await writeFile(join(out, 'existing.txt'), 'before');
    const repo = await openRepository(parseReference(`oci://${plain.host}/corrupt:v1`));
    const manifest = JSON.parse((await repo.getManifest('v1')).bytes.toString());
    await repo.close();
    const hex = (manifest.layers[0].digest as string).slice('sha256:'.length);
    const dataFile = join(plain.storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    const data = await readFile(dataFile);
    data[Math.floor(data.length / 2)] ^= 0xff;
    await writeFile(dataFile, data);
    const r = await runCli(['pull', `oci://${plain.host}/corrupt:v1`, '-o', out]);
    expectCleanFailure(r, 3, /digest mismatch|corrupt|gzip|invalid/i);
    expect(await snapshotTree(out)).toEqual({ 'existing.txt': `644:${Buffer.from('before').toString('base64')}` });
    expect((await readdir(work.path)).filter((n) => n.includes('corrupt-out') && n !== 'corrupt-out')).toEqual([]);
  });

  it.each([
    ['absolute path', [{ path: '/etc/evil.yaml', body: 'x' }]],
    ['dot-dot escape', [{ path: '../evil.yaml', body: 'x' }]],
    ['escape after normalisation', [{ path: 'a/../../evil.yaml', body: 'x' }]],
    ['hardlink out of the target', [{ path: 'link', type: 'Link', linkpath: '/etc/passwd' }]],
  ])('refuses a tarball with %s and writes nothing', async (_name, entries) => {
    const tag = `t${Math.random().toString(16).slice(2, 8)}`;
    await pushRawArtifact(`oci://${plain.host}/hostile:${tag}`, hostileTarball([{ path: 'ok.yaml', body: 'fine' }, ...entries]));
    const out = join(work.path, `hostile-${tag}`);
    const r = await runCli(['pull', `oci://${plain.host}/hostile:${tag}`, '-o', out]);
    expectCleanFailure(r, 3, /unsafe|refus|outside|not allowed/i);
    await expect(readdir(out)).rejects.toThrow();
    await expect(readFile(join(work.path, 'evil.yaml'))).rejects.toThrow();
  });
});
