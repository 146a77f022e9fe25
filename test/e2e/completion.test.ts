import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

/** Completion scripts come from the command table, so they list every command and flag the CLI has. */
let work: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  work = await tempDir('oci-artifact-completion-');
});
afterAll(async () => {
  await work?.remove();
});

describe('completion', () => {
  it('bash: valid syntax, completes commands and per-command flags', async () => {
    const r = await runCli(['completion', 'bash']);
    expect(r.code).toBe(0);
    const file = join(work.path, 'oci-artifact.bash');
    writeFileSync(file, r.stdout);
    execFileSync('bash', ['-n', file]);
    // Ask the real function what it completes, as bash would.
    const complete = (words: string[]) => execFileSync('bash', ['-c',
      `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _oci_artifact; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' }).trim().split('\n');
    expect(complete(['oci-artifact', 'pu'])).toEqual(expect.arrayContaining(['push', 'pull']));
    expect(complete(['oci-artifact', 'pull', '--layer-'])).toEqual(['--layer-media-type', '--layer-index']);
    expect(complete(['oci-artifact', 'list', '--filter'])).toEqual(['--filter-semver', '--filter-regex']);
  });

  it.each(['zsh', 'fish'])('%s: lists every command', async (shell) => {
    const r = await runCli(['completion', shell]);
    expect(r.code).toBe(0);
    for (const command of ['push', 'pull', 'build', 'tag', 'list', 'diff', 'verify', 'sign', 'copy', 'inspect']) {
      expect(r.stdout).toContain(command);
    }
  });

  it('refuses an unknown shell with a usage error', async () => {
    const r = await runCli(['completion', 'powershell']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/✗ no completion for shell 'powershell'/);
  });
});
