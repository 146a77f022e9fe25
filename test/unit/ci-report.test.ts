import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { githubErrorLine, reportCi } from '../../src/cli/ci-report.js';

const dir = await mkdtemp(join(tmpdir(), 'oci-artifact-ci-report-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('GitHub Actions reports', () => {
  it('keep annotation text from a pushed artifact inside its table cell', async () => {
    const summary = join(dir, 'summary.md');
    await reportCi('pull', {
      url: 'oci://r.example/app@sha256:' + 'a'.repeat(64),
      digest: 'sha256:' + 'a'.repeat(64),
      source: 'https://x.example/a|b\n| Injected | row |',
      revision: 'main@sha1:1`2',
    }, undefined, { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary });
    const lines = (await readFile(summary, 'utf8')).split('\n').filter((l) => l.startsWith('|'));
    expect(lines).toHaveLength(6);
    expect(lines[4]).toBe('| Source | https://x.example/a\\|b \\| Injected \\| row \\| |');
    expect(lines[5]).toBe("| Revision | `main@sha1:1'2` |");
  });

  it('encode an error message as workflow-command data', () => {
    expect(githubErrorLine('100% wrong\r\nsecond line')).toBe('::error::100%25 wrong%0D%0Asecond line\n');
  });

  it('write nothing outside GitHub Actions but the dotenv file', async () => {
    const output = join(dir, 'output');
    const dotenv = join(dir, 'report.env');
    await reportCi('tag', { url: 'oci://r.example/app@sha256:1', digest: 'sha256:1' }, dotenv, { GITHUB_OUTPUT: output });
    expect(await readFile(dotenv, 'utf8')).toBe('OCI_ARTIFACT_DIGEST=sha256:1\nOCI_ARTIFACT_URL=oci://r.example/app@sha256:1\n');
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });
});
