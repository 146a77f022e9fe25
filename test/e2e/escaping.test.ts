import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startProxy, type LoopbackProxy } from '../helpers/proxy.js';
import { useRegistry, useWorkDir } from '../helpers/fixtures.js';

/**
 * Text from an artifact or a registry reaches the terminal and CI logs escaped: an artifact whose annotations,
 * file names and file content hold ESC, CR, LF and GitHub workflow commands is shown by every human view, and a
 * registry error carrying them is reported; none may redraw the terminal, split a line or start a runner command.
 */
const work = useWorkDir('oci-artifact-escaping-');
const registry = useRegistry();
let hostile: LoopbackProxy;

const ESC = '\u001b';
const EVIL = `${ESC}[2J${ESC}]0;owned\u0007\r\n::set-output name=pwned::1`;
const REVISION = `main@sha1:${ESC}[31mred`;
const FILE_NAMES = [`esc-${ESC}[31m.yaml`, 'cr-\r.yaml', '::set-output name=file::1.yaml'];

/** No escape sequence, no CR, no line a CI runner reads as a command (`::` or `##[` after blanks). */
function expectInert(output: string): void {
  expect(output).not.toContain(ESC);
  expect(output).not.toContain('\r');
  expect(output).not.toContain('\u0007');
  for (const line of output.split('\n')) expect(line).not.toMatch(/^\s*(::|##\[)/);
}

function expectClean(r: CliResult, code = 0): void {
  expect(r.code, r.stderr).toBe(code);
  expectInert(r.stdout);
  expectInert(r.stderr);
}

const layout = () => `oci-layout://${join(work.path, 'store')}:v1`;

beforeAll(async () => {
  const dir = join(work.path, 'content');
  await mkdir(dir);
  for (const name of FILE_NAMES) await writeFile(join(dir, name), 'a: 1\n');
  await writeFile(join(dir, 'body.yaml'), `a: 1\nnote: "${ESC}[2J"\n`);
  const pushed = await runCli(['push', layout(), '-f', dir, '--source', 'https://example.invalid/r', '--revision', REVISION,
    '-a', `org.example.note=${EVIL}`]);
  expect(pushed.code, pushed.stderr).toBe(0);
  const registryPush = await runCli(['push', `oci://${registry.host}/escaping/app:v1`, '-f', dir, '--source', 'https://example.invalid/r',
    '--revision', REVISION, '-a', `org.example.note=${EVIL}`]);
  expect(registryPush.code, registryPush.stderr).toBe(0);

  const local = join(work.path, 'local');
  await mkdir(local);
  await writeFile(join(local, 'body.yaml'), `a: 2\nnote: "${ESC}]0;x\u0007"\n::set-output name=diff::1\n`);
  await writeFile(join(local, `new-${ESC}[1A.yaml`), 'b: 1\n');

  // A registry that puts the same text in its error bodies (no real registry does; a hostile one may).
  hostile = await startProxy({
    target: registry.host,
    onRequest: (request) => request.path.includes('/manifests/')
      ? { kind: 'respond', status: 403, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errors: [{ code: 'DENIED', message: `denied 100%${EVIL}` }] }) }
      : undefined,
  });
});
afterAll(async () => {
  await hostile?.stop();
});

describe('text from an artifact or a registry is printed escaped', () => {
  it('inspect and inspect --files show annotations, revision and file names escaped', async () => {
    const r = await runCli(['inspect', layout(), '--files']);
    expectClean(r);
    expect(r.stdout).toContain('\\e[2J');
    expect(r.stdout).toContain('esc-\\e[31m.yaml');
    expect(r.stdout).toContain('\\r\\n::set-output name=pwned::1');
  });

  it('list shows the revision escaped in the table', async () => {
    const r = await runCli(['list', `oci://${registry.host}/escaping/app`]);
    expectClean(r);
    expect(r.stdout).toContain('main@sha1:\\e[31mred');
  });

  it('pull prints the revision escaped', async () => {
    const r = await runCli(['pull', layout(), '-o', join(work.path, 'pulled')]);
    expectClean(r);
    expect(r.stderr).toContain('main@sha1:\\e[31mred');
  });

  it('diff prints file names and content escaped, in every layout', async () => {
    for (const flags of [['--brief'], ['--unified'], ['--no-unified']]) {
      const r = await runCli(['diff', layout(), '--path', join(work.path, 'local'), ...flags]);
      expectClean(r, 1);
      expect(r.stdout).toContain('new-\\e[1A.yaml');
    }
    // --brief prints bare paths, so this name starts a line: its first colon is escaped.
    const brief = await runCli(['diff', layout(), '--path', join(work.path, 'local'), '--brief']);
    expect(brief.stdout).toContain('\\x3a:set-output name=file::1.yaml');
  });

  it('a registry error is one escaped line, also as the ::error:: line under GitHub Actions (% encoded)', async () => {
    const plain = await runCli(['inspect', `oci://${hostile.host}/escaping/app:v1`]);
    expect(plain.code).not.toBe(0);
    expectClean(plain, plain.code ?? 0);
    const errorLines = plain.stderr.split('\n').filter((line) => line.startsWith('✗'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain('denied 100%\\e[2J\\e]0;owned\\x07\\r');

    const actions = await runCli(['inspect', `oci://${hostile.host}/escaping/app:v1`], { env: { GITHUB_ACTIONS: 'true' } });
    const output = `${actions.stdout}\n${actions.stderr}`;
    const commands = output.split('\n').filter((line) => line.startsWith('::error::'));
    expect(commands).toHaveLength(1);
    expect(commands[0]).toContain('denied 100%25\\e[2J');
    expect(commands[0]).not.toMatch(/%(?!25|0A|0D)/);
    expectInert(output.replace(/^::error::.*$/m, ''));
  });
});
