import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/oci/mediatypes.js';
import { openRepository } from '../../src/ops/support/open-repository.js';
import type { Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseReference } from '../../src/ref/reference.js';
import { closeAllConnections } from '../../src/registry/connection-pool.js';
import { ROOT, runCli, snapshotTree, tempDir, type CliResult } from '../helpers/cli.js';
import { startProxy, type ProxyAction, type ProxyRequest } from '../helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writeReliabilitySection } from '../helpers/reliability-doc.js';
// @ts-expect-error: a plain .mjs script without type declarations
import { gzipBomb } from '../../scripts/make-hostile-corpus.mjs';

/**
 * The hostile-input corpus (fixtures/hostile, written by scripts/make-hostile-corpus.mjs) through `pull`, and its
 * tar cases through `inspect --files` and `diff`: each gets a clear error or its documented safe behaviour, and
 * nothing is ever written outside the target: the whole sandbox around it (a sentinel directory the archives aim
 * at, the working directory, TMPDIR) is compared before and after every run.
 */

interface CaseFile {
  description: string;
  layer?: { file?: string; gzip?: boolean; generate?: string };
  manifest: 'flux' | 'zero-layers' | 'several-layers' | 'wrong-media-types' | 'huge' | 'size-smaller' | 'size-larger';
  expect: { exit: number; code?: string; stderr?: string; files?: string[]; modes?: Record<string, string> };
}

interface FlagCase {
  description: string;
  args: string[];
  stderr: string;
  setup?: string;
}

const CORPUS = join(ROOT, 'fixtures', 'hostile');
const NAMES = readdirSync(CORPUS).filter((n) => existsSync(join(CORPUS, n, 'case.json'))).sort();
const FLAG_CASES = JSON.parse(readFileSync(join(CORPUS, 'flags.json'), 'utf8')) as FlagCase[];

let registry: TestRegistry;
let work: { path: string; remove(): Promise<void> };
const tally = { inputs: 0, runs: 0, errors: 0, safe: 0, writesOutside: 0 };
const rows: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  work = await tempDir('oci-artifact-hostile-');
});

afterAll(async () => {
  await closeAllConnections();
  await registry?.stop();
  await work?.remove();
  if (tally.runs > 0) {
    const summary = [
      `Inputs tried: ${tally.inputs} (${NAMES.length} hostile artifacts, ${FLAG_CASES.length} malformed references/flags); ` +
        `CLI runs: ${tally.runs}; clear errors: ${tally.errors}; documented safe behaviours: ${tally.safe}; ` +
        `writes outside the target: ${tally.writesOutside}.`,
      '',
      '| input | pull |',
      '| --- | --- |',
      ...rows,
    ].join('\n');
    process.stdout.write(`\nHostile inputs:\n${summary}\n`);
    if (process.env.RELIABILITY_DOC === '1') await writeReliabilitySection('hostile', summary);
  }
});

async function layerBytes(c: CaseFile, dir: string): Promise<Buffer> {
  if (c.layer?.generate === 'gzip-bomb') return (await gzipBomb()) as Buffer;
  const raw = readFileSync(join(dir, c.layer?.file as string));
  return c.layer?.gzip ? gzipSync(raw) : raw;
}

/** Store the case as an artifact exactly as described, bypassing every check a well-behaved pusher would make. */
async function pushCase(reference: string, c: CaseFile, layer: Buffer): Promise<void> {
  const ref = parseReference(reference);
  const repo = await openRepository(ref, { create: true });
  try {
    const config = Buffer.from('{}');
    const configDesc: Descriptor = { mediaType: MediaType.FluxConfig, digest: digestOf(config), size: config.length };
    const layerDesc: Descriptor = { mediaType: MediaType.FluxContent, digest: digestOf(layer), size: layer.length };
    await repo.pushBlob(configDesc, config);
    await repo.pushBlob(layerDesc, layer);
    const manifest: Record<string, unknown> = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: [layerDesc] };
    switch (c.manifest) {
      case 'zero-layers':
        manifest.layers = [];
        break;
      case 'several-layers': {
        const other = gzipSync(Buffer.from('not the content layer'));
        const otherDesc: Descriptor = { mediaType: MediaType.OciLayerTarGzip, digest: digestOf(other), size: other.length };
        const text = Buffer.from('notes');
        const textDesc: Descriptor = { mediaType: 'text/plain', digest: digestOf(text), size: text.length };
        await repo.pushBlob(otherDesc, other);
        await repo.pushBlob(textDesc, text);
        manifest.layers = [otherDesc, textDesc, layerDesc];
        break;
      }
      case 'wrong-media-types':
        manifest.config = { ...configDesc, mediaType: 'application/x-unknown' };
        manifest.layers = [{ ...layerDesc, mediaType: 'text/plain' }];
        break;
      case 'huge': // served by the proxy instead
        break;
      case 'size-smaller':
        manifest.layers = [{ ...layerDesc, size: layerDesc.size - 7 }];
        break;
      case 'size-larger':
        manifest.layers = [{ ...layerDesc, size: layerDesc.size + 7 }];
        break;
      case 'flux':
        break;
    }
    await repo.putManifest(ref.tag as string, Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest);
  } finally {
    await repo.close();
  }
}

interface Sandbox {
  root: string;
  /** Working directory of the CLI; `out` inside it is the target. */
  target: string;
  out: string;
  env: Record<string, string>;
}

/** sandbox/{sentinel/keep.txt, target/, tmp/}: archives aim their escapes at ../../sentinel. */
async function sandbox(name: string): Promise<Sandbox> {
  const root = join(work.path, name);
  await mkdir(join(root, 'sentinel'), { recursive: true });
  await mkdir(join(root, 'target'), { recursive: true });
  await mkdir(join(root, 'tmp'), { recursive: true });
  await writeFile(join(root, 'sentinel', 'keep.txt'), 'the sentinel\n');
  return { root, target: join(root, 'target'), out: join(root, 'target', 'out'), env: { TMPDIR: join(root, 'tmp') } };
}

/** Everything in the sandbox except the target output, plus the absolute paths the corpus aims at. */
async function outside(box: Sandbox): Promise<Record<string, string>> {
  const tree = await snapshotTree(box.root);
  for (const key of Object.keys(tree)) if (key === 'target/out/' || key.startsWith('target/out/')) delete tree[key];
  tree['/tmp/oci-artifact-evil.yaml'] = String(existsSync('/tmp/oci-artifact-evil.yaml'));
  tree['work/evil.yaml'] = String(existsSync(join(work.path, 'evil.yaml')));
  return tree;
}

function expectCleanFailure(r: CliResult, exit?: number, pattern?: string): void {
  if (exit !== undefined) expect(r.code, r.stderr).toBe(exit);
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.code, r.stderr).not.toBe(70);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('✗'));
  expect(lines, r.stderr).toHaveLength(1);
  if (pattern !== undefined) expect(lines[0]).toMatch(new RegExp(pattern, 'i'));
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('hostile artifacts', () => {
  it('the committed corpus is what the script writes', async () => {
    const check = await new Promise<number | null>((resolve) => {
      import('node:child_process').then(({ spawn }) => {
        const child = spawn(process.execPath, [join(ROOT, 'scripts', 'make-hostile-corpus.mjs'), '--check'], { stdio: 'ignore' });
        child.on('close', resolve);
      });
    });
    expect(check).toBe(0);
    expect(NAMES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(NAMES)('%s', async (name) => {
    const dir = join(CORPUS, name);
    const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseFile;
    // A registry refuses to store a manifest over 4 MiB: the proxy serves one in place of the stored manifest.
    const proxy = c.manifest === 'huge' ? await startProxy({ target: registry.host, onRequest: hugeManifest }) : undefined;
    const reference = `oci://${proxy?.host ?? registry.host}/hostile/${name}:v1`;
    await pushCase(`oci://${registry.host}/hostile/${name}:v1`, c, await layerBytes(c, dir));
    tally.inputs++;
    try {
      await runCase(name, c, reference);
    } finally {
      await proxy?.stop();
    }
  });
});

function hugeManifest(req: ProxyRequest): ProxyAction | undefined {
  if (req.method !== 'GET' || !/\/manifests\//.test(req.path)) return undefined;
  const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, annotations: { padding: 'x'.repeat(4 * 1024 * 1024 + 10) } });
  return { kind: 'respond', status: 200, headers: { 'content-type': MediaType.OciManifest }, body };
}

async function runCase(name: string, c: CaseFile, reference: string): Promise<void> {
  {

    const box = await sandbox(name);
    const before = await outside(box);
    // The expected modes are the archive's less this umask (pull honours it, as Flux does).
    const r = await runCli(['pull', reference, '-o', 'out'], { cwd: box.target, env: box.env, umask: 0o022 });
    tally.runs++;
    const after = await outside(box);
    if (JSON.stringify(after) !== JSON.stringify(before)) tally.writesOutside++;
    expect(after).toEqual(before);

    if (c.expect.exit === 0) {
      expect(r.code, r.stderr).toBe(0);
      const tree = await snapshotTree(box.out);
      expect(Object.keys(tree).filter((k) => !k.endsWith('/')).sort()).toEqual(c.expect.files);
      for (const [file, mode] of Object.entries(c.expect.modes ?? {})) expect(tree[file]?.split(':')[0]).toBe(mode);
      if (c.expect.stderr) expect(r.stderr).toMatch(new RegExp(c.expect.stderr, 'i'));
      tally.safe++;
      rows.push(`| ${name}: ${c.description} | ✔ ${c.expect.files?.join(', ')} only |`);
    } else {
      expectCleanFailure(r, c.expect.exit, c.expect.stderr);
      expect(existsSync(box.out), 'no output directory after a refused pull').toBe(false);
      expect(await readdir(box.target), 'no temp directory left beside the target').toEqual([]);
      tally.errors++;
      const line = r.stderr.split('\n').find((l) => l.startsWith('✗')) as string;
      rows.push(`| ${name}: ${c.description} | exit ${r.code}: ${line.slice(2, 110).replace(/\|/g, '\\|')} |`);
    }

    // The same archive through the two other readers of layer content: the same verdict, nothing written.
    if (c.layer?.file !== undefined && c.manifest === 'flux') {
      const local = join(box.root, 'local');
      await mkdir(local);
      await writeFile(join(local, 'ok.yaml'), 'kind: ConfigMap\n');
      const mark = await outside(box);
      for (const args of [['inspect', reference, '--files'], ['diff', reference, '-f', local, '--no-unified']]) {
        const other = await runCli(args, { cwd: box.target, env: box.env });
        tally.runs++;
        if (c.expect.exit === 0) expect([0, 1], other.stderr).toContain(other.code);
        else expectCleanFailure(other, c.expect.exit === 2 ? undefined : c.expect.exit);
      }
      expect(await outside(box)).toEqual(mark);
      expect(existsSync(box.out) ? 'out' : 'none').toBe(c.expect.exit === 0 ? 'out' : 'none');
    }
  }
}

describe('malformed references and flags', () => {
  it.each(FLAG_CASES.map((f) => [f.description, f] as const))('%s', async (_name, f) => {
    const box = await sandbox(`flags-${FLAG_CASES.indexOf(f)}`);
    if (f.setup) await writeFile(join(box.target, f.setup), 'a file, not a directory\n');
    const before = await snapshotTree(box.root);
    const r = await runCli(f.args, { cwd: box.target, env: box.env });
    tally.inputs++;
    tally.runs++;
    tally.errors++;
    expectCleanFailure(r, 2, f.stderr);
    expect(r.stdout).toBe('');
    expect(await snapshotTree(box.root)).toEqual(before);
    rows.push(`| ${f.description} | exit 2: ${r.stderr.split('\n').find((l) => l.startsWith('✗'))!.slice(2, 110).replace(/\|/g, '\\|')} |`);
  });
});
