import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_LIST } from '../../src/cli/command-list.js';
import { BIN, ROOT, cleanEnv, tempDir } from '../helpers/cli.js';

/**
 * Start-up stays small as the tool grows (issue 17): `--version`, `--help` and each command's `--help` load only
 * the entry, the command table, the small cli helpers and commander, never the registry client, signing, undici,
 * the YAML parser, the packer or an op. Each case runs the built CLI in a fresh node with a module-load hook
 * (test/helpers/module-log.mjs) and compares what it loaded with the lists below; an import added at the top of a
 * command module (say of src/registry/client.ts) fails here: move it into the handler as `await import(...)`.
 */

/** What every start-up may load: the entry and the command table with the cli helpers the command modules use. */
const STARTUP_MODULES = [
  'bin/oci-artifact.js',
  'dist/cli/main.js',
  'dist/cli/version.js',
  'dist/cli/program.js',
  'dist/cli/command.js',
  'dist/cli/command-list.js',
  'dist/cli/global-flags.js',
  'dist/cli/flag-rules.js',
  'dist/cli/flag-values.js',
  'dist/errors.js',
  'node_modules/commander',
  'node_modules/@commander-js/extra-typings',
];
/** What a command module may import at top level besides those. */
const COMMAND_HELPERS = ['dist/cli/flags.js', 'dist/cli/flux-flags.js', 'dist/cli/keyless-flags.js', 'dist/cli/secret-input.js', 'dist/cli/ci-report.js'];
/** Node's modules that only network, crypto, compression or worker code needs. */
const HEAVY_BUILTINS = ['node:http', 'node:https', 'node:http2', 'node:net', 'node:tls', 'node:zlib', 'node:crypto', 'node:worker_threads'];

const HOOK = fileURLToPath(new URL('../helpers/module-log.mjs', import.meta.url));
let work: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  work = await tempDir('oci-artifact-startup-');
});
afterAll(async () => {
  await work?.remove();
});

/** Run the built CLI with the hook; returns its exit code and what it loaded, as paths under the root or package names. */
async function loadedBy(args: string[]): Promise<{ code: number | null; modules: string[] }> {
  const log = join(work.path, `${args.join('_').replace(/[^a-z-]/gi, '_')}.log`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', HOOK, BIN, ...args], { cwd: ROOT, env: cleanEnv({ MODULE_LOG: log }), stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', resolve);
  });
  const modules = (await readFile(log, 'utf8')).split('\n').filter(Boolean).map((url) => {
    if (url.startsWith('node:')) return url;
    const path = fileURLToPath(url);
    const inPackage = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
    return inPackage ? `node_modules/${inPackage[1]}` : path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
  });
  return { code, modules: [...new Set(modules)] };
}

/** What was loaded that `allowed` does not name (builtins: only the heavy ones count). */
function unexpected(modules: string[], allowed: string[]): string[] {
  return modules.filter((m) => (m.startsWith('node:') ? HEAVY_BUILTINS.includes(m) : !allowed.includes(m)));
}

describe('what start-up loads (issue 17: no command imports what it does not use)', () => {
  it('--version loads the entry and version.js only', async () => {
    const { code, modules } = await loadedBy(['--version']);
    expect(code).toBe(0);
    expect(modules.filter((m) => !m.startsWith('node:'))).toEqual(['bin/oci-artifact.js', 'dist/cli/main.js', 'dist/cli/version.js']);
  });

  it('--help loads no command module, and nothing of registry, signing, undici, YAML, the packer or the ops', async () => {
    const { code, modules } = await loadedBy(['--help']);
    expect(code).toBe(0);
    expect(unexpected(modules, STARTUP_MODULES)).toEqual([]);
  });

  it.each(COMMAND_LIST.map((c) => c.name))('%s --help loads its own module and the cli helpers, nothing of registry, signing, undici, YAML, the packer or the ops', async (name) => {
    const { code, modules } = await loadedBy([name, '--help']);
    expect(code).toBe(0);
    expect(modules).toContain(`dist/cli/commands/${name}.js`);
    expect(unexpected(modules, [...STARTUP_MODULES, ...COMMAND_HELPERS, `dist/cli/commands/${name}.js`])).toEqual([]);
  });

  it('`help push` loads what `push --help` loads', async () => {
    const [help, flag] = await Promise.all([loadedBy(['help', 'push']), loadedBy(['push', '--help'])]);
    expect(help.code).toBe(0);
    expect(help.modules.filter((m) => !m.startsWith('node:')).sort()).toEqual(flag.modules.filter((m) => !m.startsWith('node:')).sort());
  });
});

/** The EPIPE handlers are attached when a stream is first used (src/cli/main.ts): a closed pipe still ends quietly. */
describe('a reader that closes the pipe early', () => {
  const closing = (args: string[], closed: 'stdout' | 'stderr') =>
    new Promise<{ code: number | null; other: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      child[closed].destroy();
      let other = '';
      child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (d: Buffer) => (other += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, other }));
    });

  it('stdout closed (`completion bash | head -c 0`): exit 0, no stack trace', async () => {
    expect(await closing(['completion', 'bash'], 'stdout')).toEqual({ code: 0, other: '' });
  });

  it('stderr closed before a usage error: the usage exit code, no stack trace', async () => {
    expect(await closing(['pusj'], 'stderr')).toEqual({ code: 2, other: '' });
  });

  it('stderr closed while a command fails (progress, then the error line): the failure keeps its exit code', async () => {
    // Port 9 on loopback refuses: the registry failure is exit 3 whether or not anyone reads stderr.
    expect(await closing(['list', 'oci://127.0.0.1:9/closed-stderr'], 'stderr')).toEqual({ code: 3, other: '' });
  });

  it('stdout closed while diff reports differences: exit 1, not 0', async () => {
    const dir = await tempDir('oci-artifact-epipe-');
    try {
      const layout = `oci-layout://${join(dir.path, 'layout')}`;
      for (const [tag, text] of [['a', 'one'], ['b', 'two']] as const) {
        await mkdir(join(dir.path, tag));
        await writeFile(join(dir.path, tag, 'cm.yaml'), `${text}\n`);
        expect(spawnSync(process.execPath, [BIN, 'push', `${layout}:${tag}`, '--path', join(dir.path, tag), '--source', 'https://example.test/r', '--revision', 'main@sha1:0000000000000000000000000000000000000000'], { env: cleanEnv() }).status).toBe(0);
      }
      expect((await closing(['diff', `${layout}:a`, `${layout}:b`], 'stdout')).code).toBe(1);
    } finally {
      await dir.remove();
    }
  });
});
