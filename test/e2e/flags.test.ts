import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, useWorkDir } from '../helpers/fixtures.js';

/** Flags as a person types them, through the built CLI: misspelt, Flux's short forms, combinations that conflict. */
const work = useWorkDir('oci-artifact-flags-');

/** One ✗ line and exit 2, nothing on stdout. */
function expectUsageError(r: { code: number | null; stdout: string; stderr: string }, line: RegExp) {
  expect(r.stderr).toMatch(/^✗ [^\n]*\n$/);
  expect(r.stderr).toMatch(line);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(2);
}

describe('a misspelt flag', () => {
  it('is named with a suggestion, before any required option is missed', async () => {
    expectUsageError(await runCli(['push', 'oci-layout://./x:v1', '--pth', 'x']), /^✗ unknown option '--pth'; did you mean --path\?$/m);
  });

  it('a missing required option is still reported when every flag is known', async () => {
    expectUsageError(await runCli(['push', 'oci-layout://./x:v1']), /required option '-f, --path <SRC\[:DEST\]>' not specified/);
  });
});

describe("Flux's short flags", () => {
  it('build -p works as in flux build artifact', async () => {
    const output = join(work.path, 'p.tgz');
    const r = await runCli(['build', '-p', KUSTOMIZE_FIXTURE, '-o', output]);
    expect(r.stderr).not.toContain('✗');
    expect(r.code).toBe(0);
    expect(existsSync(output)).toBe(true);
  });
});

describe('flags that cannot act are refused', () => {
  it('conflicting flags', async () => {
    expectUsageError(await runCli(['list', 'oci-layout://./x', '-q', '--verbose']), /'-q, --quiet' cannot be used with option '--verbose'/);
    expectUsageError(await runCli(['diff', 'oci-layout://./x:v1', '-f', KUSTOMIZE_FIXTURE, '--brief', '--unified']), /--brief and --unified cannot be combined/);
  });

  it('flags that only act with another one', async () => {
    const store = `oci-layout://${join(work.path, 'store')}`;
    expectUsageError(await runCli(['push', `${store}:v1`, '-f', KUSTOMIZE_FIXTURE, '--key', 'k.key']), /--key acts only with --sign; add --sign/);
    expectUsageError(await runCli(['pull', `${store}:v1`, '-o', join(work.path, 'out'), '--key', 'cosign.pub']), /--key acts only with --verify/);
    expectUsageError(await runCli(['pull', `${store}:v1`, '-o', join(work.path, 'out'), '--trust-store', 'ca.crt']), /--trust-store acts only with --verify/);
    expectUsageError(await runCli(['inspect', `${store}:v1`, '--max-size', '1Mi']), /--max-size acts only with --files/);
    expect(existsSync(join(work.path, 'store'))).toBe(false);
    expect(existsSync(join(work.path, 'out'))).toBe(false);
  });
});

describe('COMMAND --help', () => {
  it('shows the global flags too', async () => {
    const r = await runCli(['push', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--path', '--sign', '--dotenv', '--creds', '--password-stdin', '--timeout', '--insecure-registry', '--verbose', '--ca-file']) {
      expect(r.stdout).toContain(flag);
    }
  });
});
