import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKey, publicKeyPem } from '../../fixtures/signing/generate.js';
import { runCli } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, REVISION, useWorkDir } from '../helpers/fixtures.js';

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
    expect(await readFile(output, 'utf8')).toBe(`previous=kept\ndigest=${digest}\nurl=${url}\npushed=true\n`);
    const md = await readFile(summary, 'utf8');
    expect(md).toContain('### oci-artifact push');
    expect(md).toContain(`\`${digest}\``);
    expect(md).toContain('https://github.com/org/app');
    expect(md).toContain(`main@sha1:${'a'.repeat(40)}`);
    expect(r.stderr).toContain('taken from GitHub Actions');
  });

  it('prints an error once, as an ::error:: annotation on stderr (no ✗ line beside it, nothing on stdout)', async () => {
    const r = await runCli(['pull', 'oci://ghcr.io/Bad/ref:v1', '-o', join(work.path, 'x')], { env: { GITHUB_ACTIONS: 'true', CI: 'true' } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^::error::invalid reference 'oci:\/\/ghcr.io\/Bad\/ref:v1'[^\n]*\n$/);
  });

  it('prints a usage error from the flag parser once too', async () => {
    const r = await runCli(['push', 'oci-layout://./x:v1'], { env: { GITHUB_ACTIONS: 'true', CI: 'true' } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^::error::[^\n]*--path[^\n]*\n$/);
  });

  it('outside GitHub Actions the same error is one ✗ line', async () => {
    const r = await runCli(['pull', 'oci://ghcr.io/Bad/ref:v1', '-o', join(work.path, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^✗ invalid reference[^\n]*\n$/);
  });
});

/**
 * Every command that produces a digest sets the step outputs, appends a step summary and honours --dotenv, all
 * three in one run here (push is covered above).
 */
describe('CI reports of tag, copy, sign, pull and verify', () => {
  let store: string;
  let digest: string;
  let key: string;
  let pub: string;

  beforeAll(async () => {
    store = join(work.path, 'ci-store');
    const pushed = await runCli(['push', `oci-layout://${store}:v1`, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE]);
    expect(pushed.code).toBe(0);
    digest = pushed.stdout.trim().split('@')[1] as string;
    const keys = join(work.path, 'keys');
    await mkdir(keys, { recursive: true });
    key = generateKey(keys, 'ci', 'ec');
    pub = publicKeyPem(keys, key, 'ci');
  });

  async function runInActions(name: string, args: string[]) {
    const dir = join(work.path, `report-${name}`);
    await mkdir(dir, { recursive: true });
    const files = { output: join(dir, 'output'), summary: join(dir, 'summary.md'), dotenv: join(dir, 'build.env') };
    const r = await runCli([...args, '--dotenv', files.dotenv], {
      env: { GITHUB_ACTIONS: 'true', CI: 'true', GITHUB_OUTPUT: files.output, GITHUB_STEP_SUMMARY: files.summary },
    });
    expect(r.stderr).not.toMatch(/✗|::error::/);
    expect(r.code).toBe(0);
    return {
      output: await readFile(files.output, 'utf8'),
      summary: await readFile(files.summary, 'utf8'),
      dotenv: await readFile(files.dotenv, 'utf8'),
    };
  }

  function expectReport(report: { output: string; summary: string; dotenv: string }, command: string, url: string) {
    expect(report.output).toBe(`digest=${digest}\nurl=${url}\n`);
    expect(report.dotenv).toBe(`OCI_ARTIFACT_DIGEST=${digest}\nOCI_ARTIFACT_URL=${url}\n`);
    expect(report.summary).toContain(`### oci-artifact ${command}`);
    expect(report.summary).toContain(`| Digest | \`${digest}\` |`);
  }

  it('tag', async () => {
    const report = await runInActions('tag', ['tag', `oci-layout://${store}:v1`, '--tag', 'stable']);
    expectReport(report, 'tag', `oci-layout://${store}@${digest}`);
    expect(report.summary).toContain(`oci-layout://${store}:stable@${digest}`);
  });

  it('copy', async () => {
    const destination = join(work.path, 'ci-copy');
    const report = await runInActions('copy', ['copy', `oci-layout://${store}:v1`, `oci-layout://${destination}:v1`]);
    expectReport(report, 'copy', `oci-layout://${destination}@${digest}`);
  });

  it('sign, then verify (the outputs name the signed artifact)', async () => {
    const signed = await runInActions('sign', ['sign', `oci-layout://${store}:v1`, '--key', key]);
    expectReport(signed, 'sign', `oci-layout://${store}@${digest}`);
    expect(signed.summary).toContain('| Signatures | signed (');
    const verified = await runInActions('verify', ['verify', `oci-layout://${store}:v1`, '--key', pub]);
    expectReport(verified, 'verify', `oci-layout://${store}@${digest}`);
    expect(verified.summary).toContain('| Signatures | verified (1) |');
  });

  it('pull', async () => {
    const report = await runInActions('pull', ['pull', `oci-layout://${store}:v1`, '-o', join(work.path, 'ci-pulled')]);
    expectReport(report, 'pull', `oci-layout://${store}@${digest}`);
    expect(report.summary).toContain(`| Revision | \`${REVISION}\` |`);
  });

  it('commands with no digest to report refuse --dotenv instead of ignoring it', async () => {
    const dotenv = join(work.path, 'refused.env');
    const cases = [
      ['list', `oci-layout://${store}`],
      ['inspect', `oci-layout://${store}:v1`],
      ['diff', `oci-layout://${store}:v1`, '-f', KUSTOMIZE_FIXTURE],
      ['build', '-f', KUSTOMIZE_FIXTURE, '-o', join(work.path, 'built.tgz')],
    ];
    for (const args of cases) {
      const r = await runCli([...args, '--dotenv', dotenv]);
      expect(r.stderr, args[0]).toMatch(/^✗ unknown option '--dotenv'/);
      expect(r.code, args[0]).toBe(2);
    }
    expect(existsSync(dotenv)).toBe(false);
    expect(existsSync(join(work.path, 'built.tgz'))).toBe(false);
  });
});

describe('dotenv report', () => {
  it('appends OCI_ARTIFACT_DIGEST, OCI_ARTIFACT_URL and OCI_ARTIFACT_PUSHED', async () => {
    const dotenv = join(work.path, 'build.env');
    const r = await runCli(['push', `oci-layout://${join(work.path, 'store2')}:v1`, '-f', KUSTOMIZE_FIXTURE, '--dotenv', dotenv,
      '--source', 'https://gitlab.example/g/p', '--revision', 'main@sha1:1'], { env: { CI_JOB_ID: '42' } });
    expect(r.code).toBe(0);
    const url = r.stdout.trim();
    expect(await readFile(dotenv, 'utf8')).toBe(`OCI_ARTIFACT_DIGEST=${url.slice(url.indexOf('@') + 1)}\nOCI_ARTIFACT_URL=${url}\nOCI_ARTIFACT_PUSHED=true\n`);
  });
});
