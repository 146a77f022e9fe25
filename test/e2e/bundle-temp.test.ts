import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, cleanEnv, runCli } from '../helpers/cli.js';
import { PROVENANCE, useWorkDir } from '../helpers/fixtures.js';

/**
 * Reading a `.tar.gz` OCI layout bundle inflates it into a temporary `.tar` in the temp directory (TMPDIR, one of
 * its own per test here, so anything left behind is seen). The built CLI must remove it on every way out: a bundle
 * that is not valid gzip, and Ctrl-C (SIGINT, exit 130) while the temporary file is in use.
 */
const work = useWorkDir('bundle-temp-');

/** A bundle of incompressible content, large enough that inflating and pulling it take a visible moment. */
function makeBundle(name: string, megabytes: number): Promise<string> {
  const tree = join(work.path, `${name}-tree`);
  mkdirSync(tree);
  writeFileSync(join(tree, 'data.bin'), randomBytes(megabytes * 1024 * 1024));
  const bundle = join(work.path, `${name}.tar.gz`);
  return runCli(['push', `oci-layout://${bundle}:v1`, '-f', tree, ...PROVENANCE], { timeoutMs: 120_000 }).then((r) => {
    expect(r.code, r.stderr).toBe(0);
    return bundle;
  });
}

function freshTmp(name: string): string {
  const dir = join(work.path, `${name}-tmp`);
  mkdirSync(dir);
  return dir;
}

describe('temporary files of a .tar.gz bundle read', () => {
  it('are removed when the bundle is not valid gzip (exit 2, one line)', async () => {
    const bundle = await makeBundle('broken', 1);
    const bytes = readFileSync(bundle);
    writeFileSync(bundle, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const tmp = freshTmp('broken');
    const r = await runCli(['pull', `oci-layout://${bundle}:v1`, '-o', join(work.path, 'broken-out')], { env: { TMPDIR: tmp } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('✗'))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('are removed at Ctrl-C while the bundle is read: exit 130', async () => {
    const bundle = await makeBundle('large', 48);
    const tmp = freshTmp('large');
    const child = spawn(process.execPath, [BIN, 'pull', `oci-layout://${bundle}:v1`, '-o', join(work.path, 'large-out')], {
      cwd: ROOT,
      env: cleanEnv({ TMPDIR: tmp }),
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    child.stdin.end();
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    // Interrupt once the inflated copy exists: that is the file that must not be left behind.
    let seen: string[] = [];
    let running = true;
    void exited.then(() => (running = false));
    while (running && seen.length === 0) {
      seen = readdirSync(tmp);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(seen, `the pull ended before a temporary file appeared: ${stderr}`).toHaveLength(1);
    child.kill('SIGINT');
    const code = await exited;
    clearTimeout(killer);
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('interrupted by SIGINT');
    expect(readdirSync(tmp)).toEqual([]);
  }, 180_000);
});
