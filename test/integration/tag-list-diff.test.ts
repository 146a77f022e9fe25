import { chmod, cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { parseReference } from '../../src/ref/reference.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { SOURCE, useProxy, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { type ProxyAction, type ProxyRequest, type RequestRecord } from '../helpers/proxy.js';

/** tag, list and diff end to end: the built CLI against the real registry (through a counting proxy) and OCI layouts. */
const revision = (c: string) => ['--source', SOURCE, '--revision', `main@sha1:${c.repeat(40)}`];

const registry = useRegistry();
const work = useWorkDir('oci-artifact-tld-');
const proxy = useProxy(registry);

/** Where a test's artifacts live: a repository on the registry (reached through the proxy), or an OCI layout. */
interface Store {
  name: string;
  repo(name: string): string;
  ref(name: string, tag: string): string;
}
const STORES: Store[] = [
  { name: 'registry', repo: (n) => `oci://${proxy.host}/${n}`, ref: (n, t) => `oci://${proxy.host}/${n}:${t}` },
  { name: 'layout', repo: (n) => `oci-layout://${join(work.path, 'layouts', n)}`, ref: (n, t) => `oci-layout://${join(work.path, 'layouts', n)}:${t}` },
];

async function push(ref: string, path: string, rev = 'a'): Promise<string> {
  const r = await runCli(['push', ref, '--path', path, ...revision(rev), '-o', 'json']);
  expect(r.stderr).not.toContain('✗');
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { digest: string }).digest;
}

async function cli(args: string[], expectedCode = 0): Promise<CliResult> {
  const r = await runCli(args);
  if (r.code !== expectedCode) throw new Error(`exit ${r.code} (wanted ${expectedCode}) for ${args.join(' ')}\n${r.stderr}`);
  return r;
}

/** The one error line a failing command must print, and nothing on stdout. */
function oneErrorLine(r: CliResult): string {
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('✗'));
  expect(errors).toHaveLength(1);
  expect(r.stdout).toBe('');
  return errors[0] as string;
}

/** A fresh tree; an `undefined` content leaves that file out. */
async function tree(name: string, files: Record<string, string | Buffer | undefined>, executables: string[] = []): Promise<string> {
  const dir = join(work.path, 'trees', name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    if (content === undefined) continue;
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
    await chmod(join(dir, path), executables.includes(path) ? 0o755 : 0o644);
  }
  return dir;
}

const BASE = {
  'deploy/web.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n',
  'deploy/svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  ports:\n    - port: 80\n',
  'scripts/check.sh': '#!/bin/sh\necho ok\n',
  'README.md': 'hello\n',
  'blob.bin': Buffer.from([0, 1, 2, 3, 255]),
};

/**
 * Distribution 2.8 ignores `?n=` and returns every tag at once, so the proxy pages its answer the way paginating
 * registries (distribution 3, ghcr.io) do: `n` tags after `last`, and a `Link: <…>; rel="next"` while more remain.
 */
async function paginateTags(q: ProxyRequest): Promise<ProxyAction | undefined> {
  const url = new URL(q.path, 'http://proxy');
  if (q.method !== 'GET' || !url.pathname.endsWith('/tags/list')) return undefined;
  const full = await fetch(`http://${registry.host}${url.pathname}`).then((res) => res.json() as Promise<{ name: string; tags: string[] }>);
  const sorted = [...full.tags].sort();
  const n = Number(url.searchParams.get('n'));
  const last = url.searchParams.get('last');
  const from = last === null ? 0 : sorted.findIndex((t) => t > last);
  const page = from < 0 ? [] : sorted.slice(from, from + n);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (from >= 0 && from + n < sorted.length) {
    headers.link = `<${url.pathname}?n=${n}&last=${encodeURIComponent(page.at(-1) as string)}>; rel="next"`;
  }
  return { kind: 'respond', status: 200, headers, body: JSON.stringify({ name: full.name, tags: page }) };
}

function manifestRequests(log: readonly RequestRecord[]): RequestRecord[] {
  return log.filter((r) => /\/manifests\//.test(r.path));
}

/** Most requests in flight at once. */
function peakOverlap(records: readonly RequestRecord[]): number {
  const events = records.flatMap((r) => [[r.start, 1], [r.end, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let peak = 0;
  for (const [, delta] of events) peak = Math.max(peak, (current += delta));
  return peak;
}

describe.each(STORES)('tag ($name)', (store) => {
  it('stores the exact manifest under every new tag, from a tag or a digest', async () => {
    const digest = await push(store.ref('tagged', 'v1.0.0'), await tree('tag-src', BASE));
    const r = await cli(['tag', store.ref('tagged', 'v1.0.0'), '--tag', 'latest', '--tag', 'stable,prod', '-o', 'json']);
    const tagged = JSON.parse(r.stdout) as Array<{ url: string; tag: string; digest: string }>;
    expect(tagged.map((t) => t.tag)).toEqual(['latest', 'stable', 'prod']);
    expect(tagged.every((t) => t.digest === digest && t.url.endsWith(`:${t.tag}@${digest}`))).toBe(true);

    const byDigest = store.ref('tagged', 'v1.0.0').replace(/:v1\.0\.0$/, `@${digest}`);
    await cli(['tag', byDigest, '--tag', 'pinned']);

    const repo = await openRepository(parseReference(store.repo('tagged')));
    try {
      const original = await repo.getManifest('v1.0.0');
      for (const name of ['latest', 'stable', 'prod', 'pinned']) {
        const copy = await repo.getManifest(name);
        expect(copy.digest).toBe(digest);
        expect(copy.bytes.equals(original.bytes)).toBe(true);
      }
    } finally {
      await repo.close();
    }
  });

  it('fails with one clear line for an unknown tag and leaves nothing behind', async () => {
    await push(store.ref('tag-unknown', 'v1'), await tree('tag-unknown', { 'a.txt': 'a\n' }));
    const r = await runCli(['tag', store.ref('tag-unknown', 'nope'), '--tag', 'x']);
    expect(r.code).toBeGreaterThanOrEqual(2);
    expect(oneErrorLine(r)).toMatch(/nope/);
    const repo = await openRepository(parseReference(store.repo('tag-unknown')));
    try {
      expect(await repo.listTags()).toEqual(['v1']);
    } finally {
      await repo.close();
    }
  });
});

describe('tag into another repository', () => {
  it('mounts the blobs on the same registry instead of uploading them', async () => {
    const digest = await push(`oci://${proxy.host}/team/staging:v1`, await tree('mount-src', BASE));
    proxy.reset();
    const r = await cli(['tag', `oci://${proxy.host}/team/staging:v1`, '--to', `oci://${proxy.host}/team/prod`, '--tag', 'v1,latest']);
    expect(r.stderr).toContain('2 blobs mounted, 0 copied');
    const mounts = proxy.log.filter((q) => q.method === 'POST' && q.path.includes('mount=') && q.path.includes('from=team%2Fstaging'));
    expect(mounts.map((q) => q.status)).toEqual([201, 201]);
    expect(proxy.log.filter((q) => q.method === 'PATCH' || (q.method === 'PUT' && q.path.includes('/blobs/')))).toEqual([]);
    const prod = await openRepository(parseReference(`oci://${registry.host}/team/prod`));
    try {
      expect((await prod.resolve('v1'))?.digest).toBe(digest);
      expect((await prod.resolve('latest'))?.digest).toBe(digest);
    } finally {
      await prod.close();
    }
  });

  it('copies the blobs when the registry refuses the mount', async () => {
    const digest = await push(`oci://${proxy.host}/refuse/src:v1`, await tree('refuse-src', { 'a.yaml': 'a: 1\n' }));
    proxy.reset();
    // A registry that does not mount answers the mount request by opening an ordinary upload (202).
    proxy.onRequest = (q) => (q.method === 'POST' && q.path.includes('mount=') ? { kind: 'respond', status: 202 } : undefined);
    try {
      const r = await cli(['tag', `oci://${proxy.host}/refuse/src:v1`, '--to', `oci://${proxy.host}/refuse/dst:v2`]);
      expect(r.stderr).toContain('0 blobs mounted, 2 copied');
    } finally {
      proxy.onRequest = undefined;
    }
    const r = await cli(['diff', `oci://${proxy.host}/refuse/src:v1`, `oci://${proxy.host}/refuse/dst:v2`, '-o', 'json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ differs: false, old: { digest }, new: { digest } });
  });

  it('copies from a registry into an OCI layout', async () => {
    const digest = await push(`oci://${proxy.host}/to-layout:v1`, await tree('to-layout', { 'a.yaml': 'b: 2\n' }));
    const layout = join(work.path, 'layouts', 'from-registry');
    const r = await cli(['tag', `oci://${proxy.host}/to-layout:v1`, '--to', `oci-layout://${layout}`, '--tag', 'copied', '-o', 'json']);
    expect(JSON.parse(r.stdout)).toEqual([{ url: `oci-layout://${layout}:copied@${digest}`, repository: `oci-layout://${layout}`, tag: 'copied', digest }]);
    await cli(['diff', `oci-layout://${layout}:copied`, `oci://${proxy.host}/to-layout:v1`]);
  });
});

describe('list over a repository with 158 tags', () => {
  const repo = () => `oci://${proxy.host}/many`;
  const digests: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
  const groups = {
    a: ['v0.9.0', '1.5', ...Array.from({ length: 60 }, (_, i) => `v1.${i}.0`)],
    b: ['3.0.0-rc.1', ...Array.from({ length: 50 }, (_, i) => `2.${i}.0`)],
    c: ['latest', ...Array.from({ length: 40 }, (_, i) => `main-${String(i).padStart(3, '0')}`)],
  };
  let toolTags: string[] = [];
  const allTags = () => [...groups.a, ...groups.b, ...groups.c, ...toolTags];

  beforeAll(async () => {
    for (const key of ['a', 'b', 'c'] as const) {
      const [first, ...rest] = groups[key];
      digests[key] = await push(`${repo()}:${first}`, await tree(`many-${key}`, { 'v.txt': `${key}\n` }), key);
      await cli(['tag', `${repo()}:${first}`, '--tag', rest.join(',')]);
    }
    // What cosign and the referrers fallback would leave in the repository.
    const hexA = digests.a.slice(7);
    toolTags = [`sha256-${hexA}.sig`, `sha256-${hexA}.att`, `sha256-${digests.b.slice(7)}.sbom`, `sha256-${hexA}`];
    await cli(['tag', `${repo()}:v1.0.0`, '--tag', toolTags.join(',')]);
    expect(allTags()).toHaveLength(158);
  }, 120_000);

  it('fetches each listed manifest exactly once, plus one request per tag-list page', async () => {
    proxy.reset();
    proxy.onRequest = paginateTags;
    let r: CliResult;
    try {
      r = await cli(['list', repo(), '--page-size', '20', '-o', 'json']);
    } finally {
      proxy.onRequest = undefined;
    }
    const listed = JSON.parse(r.stdout) as Array<{ url: string; tag: string; digest: string; revision: string }>;
    const visible = allTags().filter((t) => !toolTags.includes(t));
    expect(listed).toHaveLength(154);
    expect(listed.map((a) => a.tag)).toEqual([...visible].sort().reverse());

    const pages = proxy.log.filter((q) => q.path.includes('/tags/list'));
    expect(pages).toHaveLength(Math.ceil(158 / 20));
    expect(pages.every((q) => q.method === 'GET' && q.status === 200 && q.path.includes('n=20'))).toBe(true);
    const manifests = manifestRequests(proxy.log);
    expect(manifests).toHaveLength(154);
    expect(manifests.every((q) => q.method === 'GET')).toBe(true);
    expect(new Set(manifests.map((q) => q.path)).size).toBe(154);
    expect(proxy.log).toHaveLength(154 + 8);

    for (const artifact of listed) {
      const key = (Object.keys(groups) as Array<'a' | 'b' | 'c'>).find((k) => groups[k].includes(artifact.tag))!;
      expect(artifact.digest).toBe(digests[key]);
      expect(artifact.revision).toBe(`main@sha1:${key.repeat(40)}`);
      expect(artifact.url).toBe(`oci://${proxy.host}/many:${artifact.tag}`);
    }
  });

  it('keeps at most --concurrency manifest requests in flight', async () => {
    proxy.reset();
    proxy.latencyMs = 15;
    try {
      await cli(['list', repo(), '-o', 'json']);
      // Distribution 2.8 sends all tags in one page: one tag-list request, then one GET per visible tag.
      expect(proxy.log).toHaveLength(1 + 154);
      const peakDefault = peakOverlap(manifestRequests(proxy.log));
      proxy.reset();
      await cli(['list', repo(), '--concurrency', '3', '-o', 'json']);
      const peakThree = peakOverlap(manifestRequests(proxy.log));
      expect(peakDefault).toBeLessThanOrEqual(8);
      expect(peakDefault).toBeGreaterThan(3);
      expect(peakThree).toBeLessThanOrEqual(3);
      expect(peakThree).toBeGreaterThan(1);
    } finally {
      proxy.latencyMs = 0;
    }
  });

  it('filters by semver range, newest version first, with and without a leading v', async () => {
    proxy.reset();
    const r = await cli(['list', repo(), '--filter-semver', '>=1.0.0 <2.0.0', '--page-size', '50', '-o', 'json']);
    const tags = (JSON.parse(r.stdout) as Array<{ tag: string }>).map((a) => a.tag);
    // v1.59.0 … v1.0.0, with `1.5` (= 1.5.0) right after its equal v1.5.0.
    const expected = Array.from({ length: 60 }, (_, i) => `v1.${59 - i}.0`);
    expected.splice(expected.indexOf('v1.5.0') + 1, 0, '1.5');
    expect(tags).toEqual(expected);
    expect(manifestRequests(proxy.log)).toHaveLength(61);

    const pre = await cli(['list', repo(), '--filter-semver', '>=3.0.0-rc.0', '-o', 'json']);
    expect((JSON.parse(pre.stdout) as Array<{ tag: string }>).map((a) => a.tag)).toEqual(['3.0.0-rc.1']);
  });

  it('filters by regex and prints the Flux-style table', async () => {
    const r = await cli(['list', repo(), '--filter-regex', '^main-0[0-2]']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ARTIFACT\s+DIGEST\s+SOURCE\s+REVISION\s+CREATED$/);
    expect(lines).toHaveLength(31);
    expect(lines[1]).toMatch(new RegExp(`^oci://${proxy.host}/many:main-029\\s+${digests.c.slice(0, 19)}…\\s+https://example.invalid/org/repo\\s+main@sha1:c{40}\\s+\\d{4}-`));
    expect(lines.at(-1)).toMatch(/many:main-000 /);
  });

  it('shows cosign and referrers fallback tags only with --all', async () => {
    const hidden = await cli(['list', repo(), '--filter-regex', '^sha256-', '-o', 'json']);
    expect(JSON.parse(hidden.stdout)).toEqual([]);
    const all = await cli(['list', repo(), '--filter-regex', '^sha256-', '--all', '-o', 'json']);
    expect((JSON.parse(all.stdout) as Array<{ tag: string }>).map((a) => a.tag).sort()).toEqual([...toolTags].sort());
  });

  it('refuses bad filters before any request, and a missing repository, with one line each', async () => {
    proxy.reset();
    const semver = await runCli(['list', repo(), '--filter-semver', '>=banana']);
    expect(semver.code).toBe(2);
    expect(oneErrorLine(semver)).toContain("invalid semver range '>=banana'");
    const regex = await runCli(['list', repo(), '--filter-regex', '(unclosed']);
    expect(regex.code).toBe(2);
    expect(oneErrorLine(regex)).toContain("invalid regular expression '(unclosed'");
    expect(proxy.log).toHaveLength(0);

    const missing = await runCli(['list', `oci://${proxy.host}/does/not/exist`]);
    expect(missing.code).toBe(3);
    expect(oneErrorLine(missing)).toContain(`repository oci://${proxy.host}/does/not/exist does not exist`);
  });
});

describe('list an OCI layout', () => {
  it('applies the same filters and order', async () => {
    const layout = join(work.path, 'layouts', 'list');
    const digest = await push(`oci-layout://${layout}:v1.0.0`, await tree('layout-list', { 'a.txt': 'a\n' }));
    await cli(['tag', `oci-layout://${layout}:v1.0.0`, '--tag', 'v1.2.0,2.0.0,latest,v1.10.0', '--tag', `sha256-${digest.slice(7)}.sig`]);
    const all = await cli(['list', `oci-layout://${layout}`, '-o', 'json']);
    expect((JSON.parse(all.stdout) as Array<{ tag: string }>).map((a) => a.tag)).toEqual(['v1.2.0', 'v1.10.0', 'v1.0.0', 'latest', '2.0.0']);
    const semver = await cli(['list', `oci-layout://${layout}`, '--filter-semver', '^1', '-o', 'yaml']);
    expect(semver.stdout).toMatch(/^- url: oci-layout:\/\/.*:v1\.10\.0\n/);
    expect(semver.stdout.match(/^- url:/gm)).toHaveLength(3);
  });
});

describe.each(STORES)('diff ($name)', (store) => {
  let base: string;
  beforeAll(async () => {
    base = await tree(`diff-base-${store.name}`, BASE, ['scripts/check.sh']);
    await push(store.ref('diffed', 'v1'), base);
  });

  it('exits 0 with no output for identical content', async () => {
    const copy = join(work.path, 'trees', `diff-copy-${store.name}`);
    await cp(base, copy, { recursive: true });
    const r = await cli(['diff', store.ref('diffed', 'v1'), '--path', copy]);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no differences');
    // The local side is what a push would pack: the same ignore rules apply.
    const ignored = await cli(['diff', store.ref('diffed', 'v1'), '--path', copy, '--add-ignore-paths', '*.bin,README.md'], 1);
    expect(ignored.stdout).toBe('removed   README.md\nremoved   blob.bin\n');
  });

  it('names every added, removed, modified and mode-changed path and exits 1', async () => {
    const changed = await tree(`diff-changed-${store.name}`, {
      ...BASE,
      'deploy/web.yaml': BASE['deploy/web.yaml'].replace('replicas: 2', 'replicas: 3'),
      'deploy/extra.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: prod\n',
      'README.md': undefined,
      'blob.bin': Buffer.from([0, 1, 2, 4]),
    }, ['scripts/check.sh', 'deploy/svc.yaml']);
    await chmod(join(changed, 'scripts/check.sh'), 0o644);

    const plain = await cli(['diff', store.ref('diffed', 'v1'), '--path', changed], 1);
    expect(plain.stdout).toBe(
      'removed   README.md\n' +
      'modified  blob.bin\n' +
      'added     deploy/extra.yaml\n' +
      'mode      deploy/svc.yaml 644 -> 755\n' +
      'modified  deploy/web.yaml\n' +
      'mode      scripts/check.sh 755 -> 644\n',
    );
    expect(plain.stderr).toContain('1 added, 1 removed, 2 modified, 2 mode changed');

    const brief = await cli(['diff', store.ref('diffed', 'v1'), '--path', changed, '--brief'], 1);
    expect(brief.stdout).toBe('README.md\nblob.bin\ndeploy/extra.yaml\ndeploy/svc.yaml\ndeploy/web.yaml\nscripts/check.sh\n');

    const json = JSON.parse((await cli(['diff', store.ref('diffed', 'v1'), '--path', changed, '-o', 'json'], 1)).stdout);
    expect(json.summary).toEqual({ added: 1, removed: 1, modified: 2, modeChanged: 2 });
    expect(json.changes.map((c: { path: string; status: string }) => `${c.status} ${c.path}`)).toEqual([
      'removed README.md', 'modified blob.bin', 'added deploy/extra.yaml', 'mode-changed deploy/svc.yaml', 'modified deploy/web.yaml', 'mode-changed scripts/check.sh',
    ]);
    expect(json.patches).toBeUndefined();

    const unified = await cli(['diff', store.ref('diffed', 'v1'), '--path', changed, '--unified'], 1);
    expect(unified.stdout).toContain('--- a/deploy/web.yaml\n+++ b/deploy/web.yaml\n@@ -4,7 +4,7 @@\n   name: web\n   namespace: prod\n spec:\n-  replicas: 2\n+  replicas: 3\n');
    expect(unified.stdout).toContain('diff a/README.md b/README.md\ndeleted file mode 644\n--- a/README.md\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-hello\n');
    expect(unified.stdout).toContain('Binary files a/blob.bin and b/blob.bin differ (5 bytes -> 4 bytes)');
    expect(unified.stdout).toContain('diff a/scripts/check.sh b/scripts/check.sh\nold mode 755\nnew mode 644\n');

    const semantic = await cli(['diff', store.ref('diffed', 'v1'), '--path', changed, '--semantic'], 1);
    expect(semantic.stdout).toBe(
      '~ apps/v1 Deployment prod/web (deploy/web.yaml)\n' +
      '    ~ spec.replicas: 2 -> 3\n' +
      '+ v1 ConfigMap prod/extra (deploy/extra.yaml)\n' +
      'removed   README.md\n' +
      'modified  blob.bin\n' +
      'mode      scripts/check.sh 755 -> 644\n',
    );
  });

  it('--semantic ignores formatting, comments and key order, and exits 0 when only they changed', async () => {
    const reformatted = await tree(`diff-format-${store.name}`, {
      ...BASE,
      'deploy/web.yaml': '# reformatted\nkind: Deployment\napiVersion: "apps/v1"\nmetadata: {name: web, namespace: prod}\nspec:\n  template:\n    spec:\n      containers: [{image: "nginx:1.25", name: web}]\n  replicas: 2\n',
    }, ['scripts/check.sh']);
    await cli(['diff', store.ref('diffed', 'v1'), '--path', reformatted], 1);
    const r = await cli(['diff', store.ref('diffed', 'v1'), '--path', reformatted, '--semantic']);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('(1 YAML file differs only in formatting, comments or key order)');
  });

  it('compares two artifacts', async () => {
    await push(store.ref('diffed', 'v2'), await tree(`diff-v2-${store.name}`, { ...BASE, 'README.md': 'hello again\n' }, ['scripts/check.sh']), 'b');
    const r = await cli(['diff', store.ref('diffed', 'v1'), store.ref('diffed', 'v2'), '-u'], 1);
    expect(r.stdout).toBe('diff a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1,1 +1,1 @@\n-hello\n+hello again\n');
  });

  it('fails with one clear line for an unknown tag or a missing path', async () => {
    const unknown = await runCli(['diff', store.ref('diffed', 'nope'), '--path', base]);
    expect(unknown.code).toBeGreaterThanOrEqual(2);
    expect(oneErrorLine(unknown)).toMatch(/'?nope'? not found/);
    const missing = await runCli(['diff', store.ref('diffed', 'v1'), '--path', join(work.path, 'no-such-dir')]);
    expect(missing.code).toBe(2);
    expect(oneErrorLine(missing)).toContain('does not exist');
  });
});

describe('diff --semantic of a YAML file with 130,000 documents', () => {
  it('reports them instead of overflowing the call stack (push(...objects), exit 70 before)', async () => {
    const ref = `oci-layout://${join(work.path, 'layouts', 'many-docs')}:v1`;
    await push(ref, await tree('many-docs-old', { 'many.yaml': 'a: 1\n' }));
    const many = await tree('many-docs-new', { 'many.yaml': '{}\n---\n'.repeat(130_000) });
    const r = await runCli(['diff', ref, '--path', many, '--semantic'], { timeoutMs: 170_000 });
    expect(r.stderr).not.toContain('✗');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('many.yaml#129999');
  }, 180_000);
});
