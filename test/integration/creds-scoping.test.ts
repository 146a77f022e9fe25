import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { startProxy, type LoopbackProxy } from '../helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/**
 * Each registry of a two-reference command receives its own credentials and nothing else. Two real registries: the
 * source with token authentication (its token service records every user name and password presented to it), the
 * destination with htpasswd behind a recording proxy (every Authorization header it received); for the copy of many
 * releases, a second htpasswd registry with another user, behind its own recording proxy, as the source. `--creds`
 * never goes to both; a bare token waits for the host's own challenge.
 */
const SRC_USER = 'srcuser';
const SRC_PW = 'canary-src-pw-7c1e5a9d';
const DST_USER = 'dstuser';
const DST_PW = 'canary-dst-pw-42b8f0e3';
const TOKEN = 'canary-bare-token-d93a61c4';
/** The htpasswd source of the many-releases copy: a second user and password, its own proxy. */
const REL_USER = 'reluser';
const REL_PW = 'canary-rel-pw-5e0b7d21';
const META = ['--source', 'https://example.com/repo', '--revision', 'main@sha1:0123456789abcdef'];

let src: TestRegistry;
let dstRegistry: TestRegistry;
let dst: LoopbackProxy;
let plainRegistry: TestRegistry;
let plain: LoopbackProxy;
let releasesRegistry: TestRegistry;
let releases: LoopbackProxy;
/** Authorization headers that reached the destination and the plain registry, in order. */
const dstAuth: (string | undefined)[] = [];
const plainAuth: (string | undefined)[] = [];
const releasesAuth: (string | undefined)[] = [];
let work: { path: string; remove(): Promise<void> };
let content: string;
const results: CliResult[] = [];

beforeAll(async () => {
  [src, dstRegistry, plainRegistry, releasesRegistry, work] = await Promise.all([
    startRegistry({ token: { users: { [SRC_USER]: SRC_PW } } }),
    startRegistry({ htpasswd: { username: DST_USER, password: DST_PW } }),
    startRegistry(),
    startRegistry({ htpasswd: { username: REL_USER, password: REL_PW } }),
    tempDir('creds-scoping-'),
  ]);
  [dst, plain, releases] = await Promise.all([
    startProxy({ target: dstRegistry.host, onRequest: (req) => void dstAuth.push(req.headers.authorization) }),
    startProxy({ target: plainRegistry.host, onRequest: (req) => void plainAuth.push(req.headers.authorization) }),
    startProxy({ target: releasesRegistry.host, onRequest: (req) => void releasesAuth.push(req.headers.authorization) }),
  ]);
  content = join(work.path, 'content');
  mkdirSync(content);
  writeFileSync(join(content, 'app.yaml'), 'kind: ConfigMap\n');
  const push = await cli(['push', `oci://${src.host}/scoping/app:v1`, '-f', content, ...META, '--creds', `${SRC_USER}:${SRC_PW}`]);
  expect(push.code, push.stderr).toBe(0);
});

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop(), dstRegistry?.stop(), plain?.stop(), plainRegistry?.stop(), releases?.stop(), releasesRegistry?.stop(), work?.remove()]);
  for (const r of results) {
    for (const secret of [SRC_PW, DST_PW, REL_PW, TOKEN]) expect(r.stdout + r.stderr).not.toContain(secret);
  }
});

async function cli(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> {
  const result = await runCli(args, { env: { HOME: work.path, DOCKER_CONFIG: join(work.path, 'no-docker-config'), ...env }, input });
  results.push(result);
  return result;
}

/** Authorization headers a proxy recorded after `from`, Basic ones decoded to `user:password`. */
function credentialsSent(log: (string | undefined)[], from: number): string[] {
  return log.slice(from).filter((h): h is string => h !== undefined)
    .map((h) => (h.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString() : h));
}

/** What the source's token service, the destination and the releases' source were given since `mark()`. */
function mark() {
  const tokenFrom = src.token!.requests.length;
  const dstFrom = dstAuth.length;
  const releasesFrom = releasesAuth.length;
  return {
    presentedAtSource: () => src.token!.requests.slice(tokenFrom).flatMap((r) => (r.presented ? [`${r.presented.user}:${r.presented.password}`] : [])),
    sentToDestination: () => credentialsSent(dstAuth, dstFrom),
    sentToReleasesSource: () => credentialsSent(releasesAuth, releasesFrom),
  };
}

const srcRef = (): string => `oci://${src.host}/scoping/app:v1`;

describe('copy and diff: each side its own credentials', () => {
  it('refuses --creds for two different registries, before any request, and says which flags to use', async () => {
    const seen = mark();
    const copy = await cli(['copy', srcRef(), `oci://${dst.host}/scoping/app:v1`, '--creds', `${DST_USER}:${DST_PW}`]);
    expect(copy.code).toBe(2);
    expect(copy.stderr).toMatch(/--creds would go to both 127\.0\.0\.1:\d+ and 127\.0\.0\.1:\d+.*--src-creds for the source and --dest-creds for the destination/);
    expect(seen.presentedAtSource()).toEqual([]);
    expect(seen.sentToDestination()).toEqual([]);

    const diff = await cli(['diff', srcRef(), `oci://${dst.host}/scoping/app:v1`, '--creds', `${SRC_USER}:${SRC_PW}`]);
    expect(diff.code).toBe(2);
    expect(diff.stderr).toMatch(/--creds would go to both/);

    const tagTo = await cli(['tag', srcRef(), '--to', `oci://${dst.host}/scoping/tagged`, '--tag', 'v1', '--creds', `${SRC_USER}:${SRC_PW}`]);
    expect(tagTo.code).toBe(2);
    expect(tagTo.stderr).toMatch(/--creds would go to both/);
    expect(seen.presentedAtSource()).toEqual([]);
    expect(seen.sentToDestination()).toEqual([]);
  });

  it('copies with --src-creds and --dest-creds: the source realm sees only the source password, the destination only its own', async () => {
    const seen = mark();
    const copy = await cli(['copy', srcRef(), `oci://${dst.host}/scoping/app:v1`, '--src-creds', `${SRC_USER}:${SRC_PW}`, '--dest-creds', `${DST_USER}:${DST_PW}`]);
    expect(copy.code, copy.stderr).toBe(0);
    const atSource = seen.presentedAtSource();
    expect(atSource.length).toBeGreaterThan(0);
    expect(new Set(atSource)).toEqual(new Set([`${SRC_USER}:${SRC_PW}`]));
    const atDestination = seen.sentToDestination();
    expect(atDestination.length).toBeGreaterThan(0);
    expect(new Set(atDestination)).toEqual(new Set([`${DST_USER}:${DST_PW}`]));
  });

  it('diffs two artifacts with per-side credentials, the first reference taking --src-creds', async () => {
    const seen = mark();
    const diff = await cli(['diff', srcRef(), `oci://${dst.host}/scoping/app:v1`, '--src-creds', `${SRC_USER}:${SRC_PW}`, '--dest-creds', `${DST_USER}:${DST_PW}`]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(new Set(seen.presentedAtSource())).toEqual(new Set([`${SRC_USER}:${SRC_PW}`]));
    expect(new Set(seen.sentToDestination())).toEqual(new Set([`${DST_USER}:${DST_PW}`]));
  });

  it('--password-stdin fills the one side that waits for a password, and refuses to guess between two', async () => {
    const seen = mark();
    const copy = await cli(['copy', srcRef(), `oci://${dst.host}/scoping/stdin:v1`, '--src-creds', SRC_USER, '--dest-creds', `${DST_USER}:${DST_PW}`, '--password-stdin'], {}, `${SRC_PW}\n`);
    expect(copy.code, copy.stderr).toBe(0);
    expect(new Set(seen.presentedAtSource())).toEqual(new Set([`${SRC_USER}:${SRC_PW}`]));
    expect(new Set(seen.sentToDestination())).toEqual(new Set([`${DST_USER}:${DST_PW}`]));

    const both = await cli(['copy', srcRef(), `oci://${dst.host}/scoping/stdin:v1`, '--src-creds', `${SRC_USER}:`, '--dest-creds', `${DST_USER}:`, '--password-stdin'], {}, `${SRC_PW}\n`);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--password-stdin gives one password, but --src-creds and --dest-creds each wait for one/);
  });

  it('refuses ambiguous combinations with one line each', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--creds', `${SRC_USER}:${SRC_PW}`, '--dest-creds', `${DST_USER}:${DST_PW}`], /--creds cannot be combined with --src-creds/],
      [['--src-creds', `${SRC_USER}:${SRC_PW}`, '--src-provider', 'gcp'], /--src-creds and --src-provider cannot be combined/],
      [['--dest-provider', 'azure'], /--dest-provider azure serves only Azure Container Registry .*not 127\.0\.0\.1:/],
      [['--provider', 'gcp'], /--provider gcp serves only Google registries .*not 127\.0\.0\.1:\d+; pass --src-provider gcp or --dest-provider gcp for the side on that cloud/],
    ];
    for (const [flags, message] of cases) {
      const res = await cli(['copy', srcRef(), `oci://${dst.host}/scoping/x:v1`, ...flags]);
      expect(res.code, flags.join(' ')).toBe(2);
      expect(res.stderr).toMatch(message);
    }
    const layout = await cli(['copy', srcRef(), `oci-layout://${join(work.path, 'layout')}:v1`, '--dest-creds', `${DST_USER}:${DST_PW}`]);
    expect(layout.code).toBe(2);
    expect(layout.stderr).toMatch(/--dest-creds is for a registry, and the destination is an OCI layout/);
  });

  it('OCI_ARTIFACT_USERNAME/PASSWORD, as hostless as --creds, are refused for two different registries', async () => {
    const seen = mark();
    const copy = await cli(['copy', srcRef(), `oci://${dst.host}/scoping/env:v1`], { OCI_ARTIFACT_USERNAME: DST_USER, OCI_ARTIFACT_PASSWORD: DST_PW });
    expect(copy.code).toBe(2);
    expect(copy.stderr).toMatch(/OCI_ARTIFACT_USERNAME\/OCI_ARTIFACT_PASSWORD would go to both/);
    expect(seen.presentedAtSource()).toEqual([]);
  });

  it('--creds serves both sides when they are on the same registry', async () => {
    const copy = await cli(['copy', srcRef(), `oci://${src.host}/scoping/same-host:v1`, '--creds', `${SRC_USER}:${SRC_PW}`]);
    expect(copy.code, copy.stderr).toBe(0);
    const layout = await cli(['copy', srcRef(), `oci-layout://${join(work.path, 'from-src')}:v1`, '--creds', `${SRC_USER}:${SRC_PW}`]);
    expect(layout.code, layout.stderr).toBe(0);
  });
});

describe('copy of many releases: each side its own credentials', () => {
  it('--all-tags between two htpasswd registries: every request to each carries only its own user and password', async () => {
    const keyDir = join(work.path, 'release-keys');
    mkdirSync(keyDir);
    const key = join(keyDir, 'cosign.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], { stdio: 'pipe' });
    for (const version of ['1.0.0', '1.1.0', '2.0.0']) {
      const push = await cli(['push', `oci://${releases.host}/rel/app:${version}`, '-f', content, ...META, '-a', `version=${version}`, '--creds', `${REL_USER}:${REL_PW}`]);
      expect(push.code, push.stderr).toBe(0);
    }
    // A signature too, so the copy also reads and writes signature tags with each side's credentials.
    const sign = await cli(['sign', `oci://${releases.host}/rel/app:1.1.0`, '--key', key, '--creds', `${REL_USER}:${REL_PW}`]);
    expect(sign.code, sign.stderr).toBe(0);

    const seen = mark();
    const copy = await cli(['copy', `oci://${releases.host}/rel/app`, `oci://${dst.host}/rel/app`, '--all-tags',
      '--src-creds', `${REL_USER}:${REL_PW}`, '--dest-creds', `${DST_USER}:${DST_PW}`, '-o', 'json']);
    expect(copy.code, copy.stderr).toBe(0);
    const result = JSON.parse(copy.stdout) as { releases: { tag: string; action: string }[] };
    expect(result.releases.map((r) => [r.tag, r.action]).sort()).toEqual([['1.0.0', 'copied'], ['1.1.0', 'copied'], ['2.0.0', 'copied']]);
    const atSource = seen.sentToReleasesSource();
    expect(atSource.length).toBeGreaterThan(3);
    expect(new Set(atSource)).toEqual(new Set([`${REL_USER}:${REL_PW}`]));
    const atDestination = seen.sentToDestination();
    expect(atDestination.length).toBeGreaterThan(3);
    expect(new Set(atDestination)).toEqual(new Set([`${DST_USER}:${DST_PW}`]));
  });
});

describe('a bare-token --creds', () => {
  it('is not sent to a registry that never asked for credentials', async () => {
    const push = await cli(['push', `oci://${plain.host}/scoping/open:v1`, '-f', content, ...META]);
    expect(push.code, push.stderr).toBe(0);
    const from = plainAuth.length;
    const pull = await cli(['pull', `oci://${plain.host}/scoping/open:v1`, '-o', join(work.path, 'open-out'), '--creds', TOKEN]);
    expect(pull.code, pull.stderr).toBe(0);
    const sent = plainAuth.slice(from);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((h) => h !== undefined)).toEqual([]);
  });
});
