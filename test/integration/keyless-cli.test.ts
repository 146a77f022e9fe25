import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, resolveTag, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { startSigstoreStandIns, type SigstoreStandIns } from '../helpers/sigstore-stand-ins.js';

/**
 * Issue 14's "done when" for keyless signing, through the built CLI: `push --sign` in a simulated GitHub Actions
 * job (the stand-in issuer's token-request endpoint in ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN) signs with a Fulcio
 * certificate and a Rekor entry from the stand-ins; `verify` accepts it for the workflow identity and issuer with
 * the stand-ins' trusted root (chain, SCT and transparency log all checked) and refuses another identity.
 */
const registry = useRegistry();
const work = useWorkDir('keyless-cli-');
let sigstore: SigstoreStandIns;

beforeAll(async () => {
  sigstore = await startSigstoreStandIns(work.path);
});
afterAll(async () => {
  await sigstore?.stop();
});

const ref = (repo: string, tag = 'v1') => `oci://${registry.host}/${repo}:${tag}`;
const services = () => ['--fulcio-url', sigstore.fulcio.url, '--rekor-url', sigstore.rekor.url, '--trusted-root', sigstore.trustedRootPath];
const verifyArgs = (reference: string, identity: string) => [
  'verify', reference,
  '--certificate-identity', identity,
  '--certificate-oidc-issuer', sigstore.oidc.url,
  '--trusted-root', sigstore.trustedRootPath,
];

describe('keyless signing through the CLI', () => {
  for (const format of ['legacy', 'bundle'] as const) {
    it(`push --sign in GitHub Actions (${format}): verify accepts the workflow identity and refuses another`, async () => {
      const reference = ref(`keyless-cli/${format}`);
      const formatArgs = format === 'bundle' ? ['--sign-format', 'bundle'] : [];
      const pushed = await runCli(['push', reference, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--sign', ...formatArgs, ...services()], {
        env: sigstore.githubActionsEnv(),
      });
      expect(pushed.code, pushed.stderr).toBe(0);
      const identity = sigstore.oidc.workflowIdentity();
      expect(pushed.stderr).toContain(`as ${identity}`);
      expect(sigstore.oidc.tokenRequests.at(-1)).toEqual({ audience: 'sigstore', authorized: true });

      const ok = await runCli(verifyArgs(reference, identity));
      expect(ok.code, ok.stderr).toBe(0);
      const other = await runCli(verifyArgs(reference, 'https://github.com/acme/other/.github/workflows/release.yml@refs/heads/main'));
      expect(other.code).toBe(1);
      expect(other.stderr).toMatch(/does not match/);
      const otherIssuer = await runCli([...verifyArgs(reference, identity).slice(0, 4), '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', '--trusted-root', sigstore.trustedRootPath]);
      expect(otherIssuer.code).toBe(1);
    });
  }

  it('attest --keyless in GitHub Actions: verify --attestation accepts the workflow identity, refuses another, and prints the predicate', async () => {
    const reference = ref('keyless-cli/attest');
    expect((await runCli(['push', reference, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE])).code).toBe(0);
    const predicateFile = join(work.path, 'sbom.json');
    const sbom = { bomFormat: 'CycloneDX', specVersion: '1.5', components: [] };
    writeFileSync(predicateFile, JSON.stringify(sbom));
    const attested = await runCli(['attest', reference, '--predicate', predicateFile, '--type', 'cyclonedx', '--keyless', ...services()], { env: sigstore.githubActionsEnv() });
    expect(attested.code, attested.stderr).toBe(0);
    const identity = sigstore.oidc.workflowIdentity();
    const ok = await runCli([...verifyArgs(reference, identity), '--attestation', 'cyclonedx', '-o', 'json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).attestations[0]).toMatchObject({ verified: true, signer: identity, predicate: sbom });
    const other = await runCli([...verifyArgs(reference, 'https://github.com/acme/other/.github/workflows/release.yml@refs/heads/main'), '--attestation', 'cyclonedx']);
    expect(other.code).toBe(1);
    // Without an identity anywhere, one usage line and nothing written.
    const none = await runCli(['attest', reference, '--predicate', predicateFile, '--type', 'cyclonedx', '--keyless', ...services()]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('not in a CI with OIDC: pass --identity-token or --key');
    const bothSigners = await runCli(['attest', reference, '--predicate', predicateFile, '--keyless', '--key', predicateFile]);
    expect(bothSigners.code).toBe(2);
    expect(bothSigners.stderr).toContain('--key and --keyless exclude each other');
  });

  it('sign --keyless reads the identity token from stdin (any CI) or a file, and --oidc-issuer refuses another issuer', async () => {
    const reference = ref('keyless-cli/token');
    expect((await runCli(['push', reference, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE])).code).toBe(0);
    const token = sigstore.oidc.issueToken();
    const fromStdin = await runCli(['sign', reference, '--keyless', '--identity-token', '-', ...services()], { input: `${token}\n` });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stderr + fromStdin.stdout).not.toContain(token.split('.')[2]);
    const tokenFile = join(work.path, 'token');
    writeFileSync(tokenFile, sigstore.oidc.issueToken());
    const fromFile = await runCli(['sign', reference, '--keyless', '--identity-token', tokenFile, '--format', 'bundle', ...services()]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const both = await runCli([...verifyArgs(reference, sigstore.oidc.workflowIdentity()), '-o', 'json']);
    expect(both.code, both.stderr).toBe(0);
    expect(JSON.parse(both.stdout).signatures.map((s: { kind: string }) => s.kind).sort()).toEqual(['cosign-bundle', 'cosign-legacy']);

    const wrongIssuer = await runCli(['sign', reference, '--keyless', '--identity-token', tokenFile, '--oidc-issuer', 'https://gitlab.com', ...services()]);
    expect(wrongIssuer.code).toBe(2);
    expect(wrongIssuer.stderr).toContain(`issued by ${sigstore.oidc.url}, not https://gitlab.com`);
  });

  it('without an OIDC identity: one line, exit 2, nothing pushed', async () => {
    const reference = ref('keyless-cli/none');
    const r = await runCli(['push', reference, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--sign', ...services()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not in a CI with OIDC: pass --identity-token or --key');
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('✗'))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await resolveTag(reference)).toBeUndefined();

    const sign = await runCli(['sign', reference, '--keyless']);
    expect(sign.code).toBe(2);
    expect(sign.stderr).toContain('not in a CI with OIDC: pass --identity-token or --key');
  });

  it('flags that contradict each other or act only with keyless signing are refused', async () => {
    const reference = ref('keyless-cli/flags');
    const both = await runCli(['sign', reference, '--keyless', '--key', join(work.path, 'nope.key')]);
    expect(both.code).toBe(2);
    const neither = await runCli(['sign', reference]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('--key');
    const tokenWithKey = await runCli(['push', reference, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--sign', '--key', join(work.path, 'nope.key'), '--identity-token', '-']);
    expect(tokenWithKey.code).toBe(2);
    expect(await resolveTag(reference)).toBeUndefined();
  });

  it('a plain-HTTP --fulcio-url or --rekor-url that is not loopback is refused in one line before anything is pushed', async () => {
    const reference = ref('keyless-cli/plain-http');
    for (const [flag, url] of [['--fulcio-url', 'http://fulcio.example.com'], ['--rekor-url', 'http://rekor.example.com']] as const) {
      const args = services();
      args[args.indexOf(flag) + 1] = url;
      const r = await runCli(['push', reference, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--sign', ...args], { env: sigstore.githubActionsEnv() });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${flag} '${url}' is plain HTTP`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await resolveTag(reference)).toBeUndefined();
  });
});
