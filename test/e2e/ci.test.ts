import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, useWorkDir } from '../helpers/fixtures.js';

/** CI integration: GitHub Actions summary, step outputs and error annotations; GitLab-style dotenv reports. */
const work = useWorkDir('oci-artifact-ci-');

describe('GitHub Actions', () => {
  it('writes a step summary and the digest/url outputs, taking provenance from the environment', async () => {
    const summary = join(work.path, 'summary.md');
    const output = join(work.path, 'output.txt');
    await writeFile(output, 'previous=kept\n');
    const store = join(work.path, 'store');
    const r = await runCli(['push', `oci-layout://${store}:v1`, '-f', KUSTOMIZE_FIXTURE], {
      env: {
        GITHUB_ACTIONS: 'true', CI: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output,
        GITHUB_REPOSITORY: 'org/app', GITHUB_SERVER_URL: 'https://github.com', GITHUB_SHA: 'a'.repeat(40), GITHUB_REF_NAME: 'main',
      },
    });
    expect(r.stderr).not.toContain('✗');
    expect(r.code).toBe(0);
    const url = r.stdout.trim();
    const digest = url.slice(url.indexOf('@') + 1);
    expect(await readFile(output, 'utf8')).toBe(`previous=kept\ndigest=${digest}\nurl=${url}\n`);
    const md = await readFile(summary, 'utf8');
    expect(md).toContain('### oci-artifact push');
    expect(md).toContain(`\`${digest}\``);
    expect(md).toContain('https://github.com/org/app');
    expect(md).toContain(`main@sha1:${'a'.repeat(40)}`);
    expect(r.stderr).toContain('taken from GitHub Actions');
  });

  it('prints errors as ::error:: annotations too', async () => {
    const r = await runCli(['pull', 'oci://ghcr.io/Bad/ref:v1', '-o', join(work.path, 'x')], { env: { GITHUB_ACTIONS: 'true', CI: 'true' } });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^::error::invalid reference 'oci:\/\/ghcr.io\/Bad\/ref:v1'/m);
  });
});

describe('dotenv report', () => {
  it('appends OCI_ARTIFACT_DIGEST and OCI_ARTIFACT_URL', async () => {
    const dotenv = join(work.path, 'build.env');
    const r = await runCli(['push', `oci-layout://${join(work.path, 'store2')}:v1`, '-f', KUSTOMIZE_FIXTURE, '--dotenv', dotenv,
      '--source', 'https://gitlab.example/g/p', '--revision', 'main@sha1:1'], { env: { CI_JOB_ID: '42' } });
    expect(r.code).toBe(0);
    const url = r.stdout.trim();
    expect(await readFile(dotenv, 'utf8')).toBe(`OCI_ARTIFACT_DIGEST=${url.slice(url.indexOf('@') + 1)}\nOCI_ARTIFACT_URL=${url}\n`);
  });
});
