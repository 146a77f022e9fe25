import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { useRegistry, useWorkDir } from '../helpers/fixtures.js';

/**
 * The published package as a user gets it: `npm pack`, then `npx --package=./oci-artifact-*.tgz` from a clean
 * directory (dependencies come from the npm registry or its local cache, as for any npx user), on whichever Node
 * runs the tests (scripts/node-matrix.mjs runs this file on each supported major).
 */
const work = useWorkDir('oci-artifact-pack-');
const registry = useRegistry();
let tarball: string;

beforeAll(async () => {
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work.path], { cwd: ROOT, encoding: 'utf8' });
  tarball = join(work.path, out.trim().split('\n').pop() as string);
}, 120_000);

const npxEnv = { ...process.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', CI: 'true' };

/** `npx --package=./oci-artifact-<version>.tgz …` run in `cwd`, where the tarball has been copied. */
function npx(args: string[], cwd: string) {
  return spawnSync('npx', ['--yes', `--package=./${basename(tarball)}`, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 180_000,
    env: npxEnv,
  });
}

describe('npm package', () => {
  it("runs through the README's own `npx --package …tgz` line, word for word, in a shell", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => l.startsWith('npx --package'));
    expect(line).toBeDefined();
    const dir = join(work.path, 'readme-line');
    await mkdir(dir, { recursive: true });
    await copyFile(tarball, join(dir, basename(tarball)));
    // npm_config_yes answers npx's "Ok to proceed?", which a person answers at a terminal.
    const command = (line as string).replace(/--help$/, '--version');
    const run = spawnSync('sh', ['-c', command], { cwd: dir, encoding: 'utf8', timeout: 180_000, env: { ...npxEnv, npm_config_yes: 'true' } });
    expect(run.stderr).not.toMatch(/ERR!|error/);
    expect(run.stdout.trim()).toBe(JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version);
  }, 240_000);

  it('contains only what runs', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(listing).toContain('package/bin/oci-artifact.js');
    expect(listing).toContain('package/dist/cli/main.js');
    expect(listing.filter((f) => /\/(test|bench|fixtures|src)\//.test(f) || f.endsWith('.ts'))).toEqual([]);
  });

  it('runs from a clean directory through npx --package, on the Node running the tests: --help, --version, then a push and pull with a layout and with the test registry', async () => {
    const clean = join(work.path, 'clean');
    await mkdir(join(clean, 'deploy'), { recursive: true });
    await writeFile(join(clean, 'deploy', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: npx\n');
    await copyFile(tarball, join(clean, basename(tarball)));
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));

    // The bin's `#!/usr/bin/env node` finds the first node on PATH: the one under test (scripts/node-matrix.mjs
    // puts each Node's bin directory first), not another one of the machine's.
    const node = npx(['-c', 'node -p process.version'], clean);
    expect(node.stdout.trim()).toBe(process.version);

    const help = npx(['oci-artifact', '--help'], clean);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: oci-artifact /m);
    const version = npx(['oci-artifact', '--version'], clean);
    expect(version.stderr).not.toMatch(/ERR!/);
    expect(version.stdout.trim()).toBe(pkg.version);

    const provenance = ['--source', 'https://example.invalid/x', '--revision', 'main@sha1:1234567'];
    const push = npx(['oci-artifact', 'push', 'oci-layout://./store:v1', '-f', './deploy', ...provenance], clean);
    expect(push.stderr).not.toContain('✗');
    expect(push.status).toBe(0);
    expect(push.stdout.trim()).toMatch(/^oci-layout:\/\/\.\/store@sha256:[0-9a-f]{64}$/);
    const pull = npx(['oci-artifact', 'pull', 'oci-layout://./store:v1', '-o', './out'], clean);
    expect(pull.status).toBe(0);
    expect(await readdir(join(clean, 'out'))).toEqual(['cm.yaml']);

    const pushed = npx(['oci-artifact', 'push', `oci://${registry.host}/npx/app:v1`, '-f', './deploy', ...provenance], clean);
    expect(pushed.stderr).not.toContain('✗');
    expect(pushed.status).toBe(0);
    expect(pushed.stdout.trim()).toMatch(new RegExp(`^oci://${registry.host}/npx/app@sha256:[0-9a-f]{64}$`));
    const pulled = npx(['oci-artifact', 'pull', `oci://${registry.host}/npx/app:v1`, '-o', './from-registry'], clean);
    expect(pulled.status).toBe(0);
    expect(await readFile(join(clean, 'from-registry', 'cm.yaml'), 'utf8')).toContain('name: npx');
  }, 240_000);
});
