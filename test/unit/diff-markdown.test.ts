import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compareFiles, summarise, type FileEntry } from '../../src/diff/compare.js';
import { diffObjects, parseYamlObjects, type YamlObject } from '../../src/diff/semantic.js';
import { renderFilePatch } from '../../src/diff/text.js';
import { escapeMarkdown, fenceFor, MARKDOWN_LIMIT, renderDiffMarkdown, type ReviewedDiff } from '../../src/output/diff-markdown.js';

/** Issue 15 item 6: `diff -o markdown`, the review view for a pull-request comment or a step summary. */

interface Side { content: string | Buffer; mode?: number }
interface FileCase { path: string; before?: Side | string | Buffer; after?: Side | string | Buffer }

const side = (s: Side | string | Buffer | undefined): Side | undefined =>
  s === undefined ? undefined : typeof s === 'string' || Buffer.isBuffer(s) ? { content: s } : s;

function entry(path: string, s: Side): FileEntry {
  const bytes = Buffer.from(s.content);
  return { path, mode: s.mode ?? 0o644, size: bytes.length, sha256: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

/** A diff result as ops/diff builds it (file comparison, patches, object summary), from contents in memory. */
function reviewed(files: FileCase[], refs: [string, string] = ['oci://registry.test/app:v1', 'oci://registry.test/app:v2']): ReviewedDiff {
  const before = files.flatMap((f) => (side(f.before) ? [{ path: f.path, ...side(f.before)! }] : []));
  const after = files.flatMap((f) => (side(f.after) ? [{ path: f.path, ...side(f.after)! }] : []));
  const changes = compareFiles(before.map((f) => entry(f.path, f)), after.map((f) => entry(f.path, f)));
  const content = (list: typeof before, path: string) => {
    const found = list.find((f) => f.path === path);
    return found === undefined ? undefined : Buffer.from(found.content);
  };
  const objects = (list: typeof before): YamlObject[] => list.filter((f) => f.path.endsWith('.yaml'))
    .flatMap((f) => parseYamlObjects(f.path, Buffer.from(f.content).toString('utf8')) ?? []);
  const secretFiles = [...before, ...after].filter((f) => objects([f]).some((o) => o.kind === 'Secret')).map((f) => f.path);
  return {
    old: { reference: refs[0] },
    new: { reference: refs[1] },
    differs: changes.length > 0,
    summary: summarise(changes),
    changes,
    semantic: { objects: diffObjects(objects(before), objects(after)), files: [], secretFiles: [...new Set(secretFiles)] },
    patches: changes.map((c) => ({ path: c.path, ...renderFilePatch(c, content(before, c.path), content(after, c.path)) })),
  };
}

const deployment = (image: string, replicas = 2) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  replicas: ${replicas}\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${image}\n`;

/** The `<details>` blocks of a document, each with its summary and inner text. */
function detailsOf(markdown: string): Array<{ summary: string; inner: string }> {
  return [...markdown.matchAll(/^<details><summary>(.*)<\/summary>\n\n([\s\S]*?)\n\n<\/details>$/gm)].map((m) => ({ summary: m[1]!, inner: m[2]! }));
}

/** The document without its fenced blocks (a fence closes only on a line of at least as many backticks). */
function outsideFences(markdown: string): string {
  const kept: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    if (fence === undefined) {
      const open = /^(`{3,})/.exec(line);
      if (open) fence = open[1];
      else kept.push(line);
    } else if (new RegExp(`^${fence}\`*\\s*$`).test(line)) fence = undefined;
  }
  return kept.join('\n');
}

describe('renderDiffMarkdown', () => {
  it('names both sides, counts files and Kubernetes objects, and gives each file a collapsible unified diff', () => {
    const md = renderDiffMarkdown(reviewed([
      { path: 'deploy.yaml', before: deployment('web:1.0'), after: deployment('web:1.1', 3) },
      { path: 'cm.yaml', after: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: prod\n' },
      { path: 'old.txt', before: 'bye\n' },
    ]));
    expect(md.split('\n')[0]).toBe('### oci-artifact diff: <code>oci://registry.test/app:v1</code> → <code>oci://registry.test/app:v2</code>');
    expect(md).toContain('**Files:** 1 added, 1 removed, 1 modified, 0 mode changed');
    expect(md).toContain('**Kubernetes objects:** 1 added, 0 removed, 1 modified');
    expect(md).toContain('| added | <code>v1 ConfigMap prod/settings</code> | <code>cm.yaml</code> |  |');
    expect(md).toContain('| modified | <code>apps/v1 Deployment prod/web</code> | <code>deploy.yaml</code> | <code>spec.replicas</code>, <code>spec.template.spec.containers&#91;name=web&#93;.image</code> |');
    const details = detailsOf(md);
    expect(details.map((d) => d.summary)).toEqual(['cm.yaml (+5 −0)', 'deploy.yaml (+2 −2)', 'old.txt (+0 −1)']);
    expect(details[1]!.inner).toMatch(/^```diff\ndiff a\/deploy.yaml b\/deploy.yaml\n--- a\/deploy.yaml\n\+\+\+ b\/deploy.yaml\n@@ [\s\S]*-  replicas: 2\n\+  replicas: 3\n[\s\S]*\n```$/);
  });

  it('says so when nothing differs', () => {
    const md = renderDiffMarkdown(reviewed([{ path: 'a.yaml', before: 'a: 1\n', after: 'a: 1\n' }]));
    expect(md).toContain('No differences.');
    expect(md).not.toContain('<details>');
  });

  it('fences a diff with more backticks than any run in its content', () => {
    const readme = (n: number) => `# App\n\n\`\`\`yaml\nreplicas: ${n}\n\`\`\`\n\n\`\`\`\`\`\n`;
    const md = renderDiffMarkdown(reviewed([{ path: 'README.md', before: readme(1), after: readme(2) }]));
    const [details] = detailsOf(md);
    const lines = details!.inner.split('\n');
    expect(lines[0]).toBe('``````diff');
    expect(lines.at(-1)).toBe('``````');
    // No line inside can close the fence: none is six or more backticks alone.
    expect(lines.slice(1, -1).some((line) => /^ {0,3}`{6,}\s*$/.test(line))).toBe(false);
    expect(details!.inner).toContain('+replicas: 2');
    expect(fenceFor('no backticks')).toBe('```');
  });

  it('keeps hostile file names and references from closing <details> or injecting HTML', () => {
    const hostile = '</details><script>alert(1)</script>`x`|y\n::warning::z.yaml';
    const md = renderDiffMarkdown(reviewed([
      { path: hostile, before: 'a\n', after: 'b\n' },
      { path: 'ok.txt', before: 'a\n', after: 'b\n' },
    ], ['oci://registry.test/app:<b>v1</b>', 'oci://registry.test/app:`v2`']));
    const markup = outsideFences(md);
    expect(markup).not.toContain('<script>');
    expect(markup).not.toContain('<b>');
    expect(markup.match(/<details>/g)).toHaveLength(2);
    expect(markup.match(/<\/details>/g)).toHaveLength(2);
    const summaries = detailsOf(md).map((d) => d.summary);
    expect(summaries).toHaveLength(2);
    expect(summaries[0]).toBe(`${escapeMarkdown(hostile)} (+1 −1)`);
    expect(summaries[0]).toContain('&#60;/details&#62;&#60;script&#62;');
    expect(summaries[0]).toContain('&#92;n'); // the newline, escaped (`\\n`): the summary stays one line
    expect(md.split('\n')[0]).toContain('app:&#60;b&#62;v1&#60;/b&#62;');
    expect(md.split('\n')[0]).toContain('app:&#96;v2&#96;');
    // Inside the fence the name is code, but control characters are still escaped.
    expect(md).toContain('diff "a/</details><script>alert(1)</script>`x`|y\\n::warning::z.yaml"');
  });

  it('escapes object names and fields in the summary table', () => {
    const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "${name}"\n`;
    const md = renderDiffMarkdown(reviewed([{ path: 'cm.yaml', after: cm('a|b<img src=x>') }]));
    expect(md).toContain('| added | <code>v1 ConfigMap a&#124;b&#60;img src=x&#62;</code> |');
  });

  it('shows a binary file as one line with its sizes, without a body', () => {
    const md = renderDiffMarkdown(reviewed([
      { path: 'logo.png', before: Buffer.from([0, 1, 2]), after: Buffer.from([0, 1, 2, 3]) },
      { path: 'run.sh', before: { content: 'x\n', mode: 0o644 }, after: { content: 'x\n', mode: 0o755 } },
    ]));
    expect(detailsOf(md)).toEqual([
      { summary: 'logo.png (binary)', inner: 'binary, 3 bytes → 4 bytes' },
      { summary: 'run.sh (mode)', inner: 'mode 644 → 755' },
    ]);
    expect(md).not.toContain('```');
  });

  it('shows no diff of a file that holds a Kubernetes Secret, only its counts and changed fields', () => {
    const secret = (token: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  token: ${token}\n`;
    const md = renderDiffMarkdown(reviewed([{ path: 'secret.yaml', before: secret('hunter2'), after: secret('correct-horse') }]));
    expect(md).not.toContain('hunter2');
    expect(md).not.toContain('correct-horse');
    expect(md).toContain('| modified | <code>v1 Secret db</code> | <code>secret.yaml</code> | <code>stringData.token</code> |');
    expect(detailsOf(md)).toEqual([{ summary: 'secret.yaml (+1 −1)', inner: expect.stringMatching(/^holds a Kubernetes Secret: diff not shown/) }]);
  });

  it('stays within 65,536 characters by dropping the largest file diffs first, never cutting a fence', () => {
    const big = (n: number, size: number) => Array.from({ length: size }, (_, i) => `line ${n}-${i} ${'x'.repeat(60)}`).join('\n');
    const files: FileCase[] = [
      { path: 'small.txt', before: 'a\n', after: 'b\n' },
      ...[1, 2, 3, 4].map((n) => ({ path: `big-${n}.txt`, after: big(n, 200 * n) })),
    ];
    const md = renderDiffMarkdown(reviewed(files));
    expect(md.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    const details = Object.fromEntries(detailsOf(md).map((d) => [d.summary.split(' ')[0], d.inner]));
    expect(Object.keys(details)).toEqual(['big-1.txt', 'big-2.txt', 'big-3.txt', 'big-4.txt', 'small.txt']);
    // 4 and 3 (~53k and ~40k characters) cannot stay; 2 and 1 fit once they are gone.
    expect(details['big-4.txt']).toBe('diff omitted (size limit)');
    expect(details['big-3.txt']).toBe('diff omitted (size limit)');
    expect(details['big-2.txt']).toMatch(/^```diff\n[\s\S]*\n```$/);
    expect(details['small.txt']).toMatch(/^```diff\n[\s\S]*\n```$/);
    expect(md).toContain('2 file diffs omitted (size limit); run `oci-artifact diff` locally.');
    expect(md.match(/^```/gm)!.length % 2).toBe(0);
  });

  it('lists what fits when even the file lines alone are too many, and counts the rest', () => {
    const files = Array.from({ length: 3000 }, (_, i) => ({ path: `apps/app-${String(i).padStart(4, '0')}/kustomization.txt`, after: `${i}\n` }));
    const md = renderDiffMarkdown(reviewed(files));
    expect(md.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    const listed = detailsOf(md).length;
    expect(listed).toBeGreaterThan(100);
    expect(md).toMatch(new RegExp(`${3000 - listed} more files not listed \\(size limit\\); .*run \`oci-artifact diff\` locally\\.\\n$`));
    expect(md.match(/<details>/g)!.length).toBe(md.match(/<\/details>/g)!.length);
  });
});
