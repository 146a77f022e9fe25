import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllConnections } from '../../src/registry/connection-pool.js';
import { BIN, ROOT, cleanEnv, runCli, snapshotTree, tempDir } from '../helpers/cli.js';
import { resolveTag } from '../helpers/fixtures.js';
import { startProxy, type LoopbackProxy, type ProxyRequest } from '../helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/**
 * Ctrl-C during pull and push: exit 130 promptly, temp files removed, the output directory and the tag as they
 * were. Two pushes of different content racing to one tag: the tag ends on one complete artifact that pulls cleanly.
 */

const PROVENANCE = ['--source', 'https://example.invalid/app', '--revision', 'main@sha1:1111111111111111111111111111111111111111'];
const FIXTURE = join(ROOT, 'fixtures', 'kustomize');

let registry: TestRegistry;
let work: { path: string; remove(): Promise<void> };
let many: string;

beforeAll(async () => {
  registry = await startRegistry();
  work = await tempDir('oci-artifact-interrupt-');
  // Thousands of small files make extraction last long enough to be interrupted half way.
  many = join(work.path, 'many');
  for (let d = 0; d < 40; d++) {
    await mkdir(join(many, `d${d}`), { recursive: true });
    await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(many, `d${d}`, `f${f}.yaml`), `n: ${d}-${f}\nr: ${randomBytes(600).toString('hex')}\n`)));
  }
  const pushed = await runCli(['push', `oci://${registry.host}/int/many:v1`, '-f', many, ...PROVENANCE]);
  if (pushed.code !== 0) throw new Error(pushed.stderr);
}, 120_000);

afterAll(async () => {
  await closeAllConnections();
  await registry?.stop();
  await work?.remove();
});

interface Interrupted {
  code: number | null;
  stderr: string;
  /** ms from SIGINT to exit */
  afterSignal: number;
}

/** Start the CLI, send SIGINT once `when()` resolves, and wait for it to end. */
function interrupt(args: string[], when: () => Promise<void>, options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: cleanEnv(options.env) });
    let stderr = '';
    let signalled = 0;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    if (options.input !== undefined) child.stdin.end(options.input);
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr, afterSignal: signalled === 0 ? -1 : Date.now() - signalled });
    });
    when().then(() => {
      signalled = Date.now();
      child.kill('SIGINT');
    }, reject);
  });
}

/** Resolves when the proxy sees a request matching `match` (the hook holds that request for `holdMs`). */
function holdRequests(proxy: LoopbackProxy, match: (r: ProxyRequest) => boolean, holdMs: number): Promise<void> {
  return new Promise((resolve) => {
    proxy.onRequest = (req) => {
      if (!match(req)) return undefined;
      resolve();
      return { kind: 'forward', delayMs: holdMs };
    };
  });
}

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function prepareOutput(dir: string): Promise<Record<string, string>> {
  await mkdir(join(dir, 'out', 'd1'), { recursive: true });
  await writeFile(join(dir, 'out', 'd1', 'mine.yaml'), 'mine: true\n');
  await writeFile(join(dir, 'out', 'keep.txt'), 'keep\n');
  await mkdir(join(dir, 'tmp'));
  return snapshotTree(join(dir, 'out'));
}

describe('Ctrl-C', () => {
  it('during a pull waiting for the registry: exit 130 at once, output untouched', async () => {
    const dir = join(work.path, 'pull-wait');
    const before = await prepareOutput(dir);
    const proxy = await startProxy({ target: registry.host });
    try {
      const held = holdRequests(proxy, (r) => r.method === 'GET' && r.path.includes('/blobs/'), 15_000);
      const r = await interrupt(['pull', `oci://${proxy.host}/int/many:v1`, '-o', 'out'], () => held, { cwd: dir, env: { TMPDIR: join(dir, 'tmp') } });
      expect(r.code, r.stderr).toBe(130);
      expect(r.afterSignal).toBeLessThan(2000);
      expect(r.stderr).toMatch(/✗ interrupted/);
      expect(await snapshotTree(join(dir, 'out'))).toEqual(before);
      expect((await readdir(dir)).sort()).toEqual(['out', 'tmp']);
      expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('half way through extraction: exit 130, staging directory removed, output untouched', async () => {
    const dir = join(work.path, 'pull-extract');
    const before = await prepareOutput(dir);
    // pull stages inside the output directory: wait until its staging directory has a few entries.
    const extracting = async (): Promise<boolean> => {
      const staging = (await readdir(join(dir, 'out'))).find((n) => n.startsWith('.oci-artifact-staging-'));
      return staging !== undefined && (await readdir(join(dir, 'out', staging)).catch(() => [])).length > 3;
    };
    const r = await interrupt(['pull', `oci://${registry.host}/int/many:v1`, '-o', 'out'], () => until(extracting), { cwd: dir, env: { TMPDIR: join(dir, 'tmp') } });
    expect(r.code, r.stderr).toBe(130);
    expect(r.afterSignal).toBeLessThan(2000);
    expect(await snapshotTree(join(dir, 'out'))).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(['out', 'tmp']);
  });

  it('during a push upload: exit 130, tag not moved, no staged file left', async () => {
    const dir = join(work.path, 'push');
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const reference = `oci://${registry.host}/int/push:v1`;
    expect((await runCli(['push', reference, '-f', FIXTURE, ...PROVENANCE])).code).toBe(0);
    const old = await resolveTag(reference);
    const proxy = await startProxy({ target: registry.host });
    try {
      for (const source of ['dir', 'stdin'] as const) {
        const held = holdRequests(proxy, (r) => r.method === 'PUT' || r.method === 'PATCH', 15_000);
        const args = ['push', `oci://${proxy.host}/int/push:v1`, '-f', source === 'dir' ? many : '-', ...PROVENANCE];
        const r = await interrupt(args, () => held, { cwd: dir, env: { TMPDIR: join(dir, 'tmp') }, input: source === 'stdin' ? 'kind: ConfigMap\nmetadata: {name: x}\n' : undefined });
        expect(r.code, `${source}: ${r.stderr}`).toBe(130);
        expect(r.afterSignal).toBeLessThan(2000);
        expect(await resolveTag(reference)).toBe(old);
        expect(await readdir(join(dir, 'tmp')), `${source}: staged files`).toEqual([]);
      }
    } finally {
      await proxy.stop();
    }
  });
});

describe('racing pushes', () => {
  it('two pushes of different content to one tag leave it on one complete artifact', async () => {
    const other = join(work.path, 'other');
    await mkdir(other);
    await writeFile(join(other, 'only.yaml'), 'only: here\n');
    // A little latency makes the two sessions interleave at every step.
    const proxy = await startProxy({ target: registry.host, latencyMs: 20 });
    try {
      for (let round = 0; round < 3; round++) {
        const reference = `oci://${proxy.host}/int/race:r${round}`;
        const [a, b] = await Promise.all([
          runCli(['push', reference, '-f', FIXTURE, '--reproducible', ...PROVENANCE]),
          runCli(['push', reference, '-f', other, '--reproducible', ...PROVENANCE]),
        ]);
        expect(a.code, a.stderr).toBe(0);
        expect(b.code, b.stderr).toBe(0);
        const digestA = a.stdout.trim().split('@')[1];
        const digestB = b.stdout.trim().split('@')[1];
        expect(digestA).not.toBe(digestB);
        const now = await resolveTag(`oci://${registry.host}/int/race:r${round}`);
        expect([digestA, digestB]).toContain(now);

        const out = join(work.path, `race-${round}`);
        const pulled = await runCli(['pull', `oci://${registry.host}/int/race:r${round}`, '-o', out]);
        expect(pulled.code, pulled.stderr).toBe(0);
        const tree = await snapshotTree(out);
        if (now === digestB) expect(Object.keys(tree)).toEqual(['only.yaml']);
        else expect(existsSync(join(out, 'base', 'kustomization.yaml'))).toBe(true);
      }
    } finally {
      await proxy.stop();
    }
  });
});
