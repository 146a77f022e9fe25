import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { freePort } from '../helpers/registry.js';

/**
 * A push packs before it uploads; a tree that takes seconds to pack must not hide a wrong password or host until
 * the end. Each failure is timed against a `build` of the same tree in the same run, so the test measures "before
 * packing finished" on any machine instead of a fixed number of seconds.
 */
const registry = useRegistry({ htpasswd: { username: 'alice', password: 'right-password' } });
const work = useWorkDir('early-check-');
let tree: string;
let packSeconds: number;

async function timed(args: string[]): Promise<CliResult & { seconds: number }> {
  const started = performance.now();
  const result = await runCli(args);
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

beforeAll(async () => {
  tree = join(work.path, 'tree');
  await mkdir(tree);
  // 32 MiB of four-letter lines: slow to deflate, and small enough packed (~8 MiB) to be held in memory, so
  // without the early check no request at all is made before the whole tree is packed.
  const letters = Buffer.from('acgt');
  for (let i = 0; i < 4; i++) {
    const bytes = randomBytes(8 << 20);
    for (let k = 0; k < bytes.length; k++) bytes[k] = (k & 63) === 63 ? 0x0a : letters[bytes[k]! & 3]!;
    await writeFile(join(tree, `part-${i}.yaml`), bytes);
  }
  const build = await timed(['build', '-f', tree, '-o', join(work.path, 'layer.tgz')]);
  expect(build.code, build.stderr).toBe(0);
  packSeconds = build.seconds;
}, 180_000);

describe('push contacts the registry while it packs', () => {
  it('a wrong password fails before the tree is packed (exit 4)', async () => {
    const push = await timed(['push', `oci://${registry.host}/early/app:v1`, '-f', tree, '--creds', 'alice:wrong-password', ...PROVENANCE]);
    expect(push.code, push.stderr).toBe(4);
    expect(push.stderr).toContain('rejected the credentials');
    expect(push.seconds, `push took ${push.seconds.toFixed(1)} s, packing alone ${packSeconds.toFixed(1)} s`).toBeLessThan(packSeconds / 2);
  }, 120_000);

  it('a host where nothing listens fails before the tree is packed', async () => {
    const port = await freePort();
    const push = await timed(['push', `oci://127.0.0.1:${port}/early/app:v1`, '-f', tree, ...PROVENANCE]);
    expect(push.code, push.stderr).not.toBe(0);
    expect(push.stderr).toContain(`127.0.0.1:${port}`);
    expect(push.seconds, `push took ${push.seconds.toFixed(1)} s, packing alone ${packSeconds.toFixed(1)} s`).toBeLessThan(packSeconds / 2);
  }, 120_000);

  it('with the right password the push goes through', async () => {
    const push = await timed(['push', `oci://${registry.host}/early/app:v1`, '-f', tree, '--creds', 'alice:right-password', ...PROVENANCE]);
    expect(push.code, push.stderr).toBe(0);
  }, 180_000);
});
