/**
 * `diff -o markdown`: a diff for review, sized for a pull-request comment or a GitHub Actions step summary (both
 * take 65,536 characters). A heading naming both sides, the counts, the Kubernetes objects that changed, then one
 * collapsible `<details>` per file with its unified diff in a fence. Every text that comes from an artifact or a
 * registry is escaped: outside the fences as HTML entities (a file named `</details><script>` stays text), inside
 * them by a fence longer than any backtick run of the body, and control characters everywhere.
 */
import type { DiffResult } from '../ops/diff.js';
import { escapeControl, safeText } from './escape.js';
import { countOf } from './format.js';

/** GitHub's limit for a comment body and for one step's summary. */
export const MARKDOWN_LIMIT = 65_536;

/** A diff computed with patches (`unified`), which is what this view shows per file. */
export type ReviewedDiff = DiffResult & Required<Pick<DiffResult, 'patches'>>;

/** Field paths listed per changed object; the rest are counted. */
const MAX_FIELDS_LISTED = 5;

/**
 * Text from an artifact as Markdown that renders as itself: control characters escaped, then every character that
 * HTML or Markdown reads (tags, entities, code spans, emphasis, links, table cells, mentions) as a numeric entity.
 */
export function escapeMarkdown(text: string): string {
  return escapeControl(text).replace(/[&<>"'`|*_[\]()#!~\\@]/g, (char) => `&#${char.charCodeAt(0)};`);
}

function code(text: string): string {
  return `<code>${escapeMarkdown(text)}</code>`;
}

/** A fence of backticks longer than any run of backticks in `body`, so no line of the body can close it. */
export function fenceFor(body: string): string {
  let longest = 0;
  for (const run of body.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return '`'.repeat(Math.max(3, longest + 1));
}

interface FileEntry {
  summary: string;
  /** The fenced diff, or undefined when the file has none (binary, too large, mode only). */
  body?: string;
  /** What stands in the body's place: a one-line description. */
  line?: string;
}

export function renderDiffMarkdown(result: ReviewedDiff, limit = MARKDOWN_LIMIT): string {
  const head = renderHead(result);
  const objects = renderObjectRows(result);
  const changes = new Map(result.changes.map((change) => [change.path, change]));
  const secrets = new Set(result.semantic?.secretFiles ?? []);
  const entries = result.patches.map((patch) => fileEntry(patch, changes.get(patch.path), secrets.has(patch.path)));
  return fit(head, objects, entries, limit);
}

function sideLabel(info: DiffResult['old']): string {
  const label = code(info.path ?? info.reference ?? info.digest ?? '');
  return info.missing ? `${label} (does not exist)` : label;
}

function renderHead(result: ReviewedDiff): string {
  const lines = [`### oci-artifact diff: ${sideLabel(result.old)} → ${sideLabel(result.new)}`, ''];
  if (!result.differs) {
    const cosmetic = result.changes.length === 0 ? '' : ` (${countOf(result.changes.length, 'YAML file differs', 'YAML files differ')} only in formatting, comments or key order)`;
    lines.push(`No differences${cosmetic}.`, '');
    return lines.join('\n');
  }
  const { added, removed, modified, modeChanged } = result.summary;
  lines.push(`**Files:** ${added} added, ${removed} removed, ${modified} modified, ${modeChanged} mode changed`);
  if (result.semantic !== undefined) {
    const count = (status: string) => result.semantic?.objects.filter((o) => o.status === status).length ?? 0;
    lines.push('', `**Kubernetes objects:** ${count('added')} added, ${count('removed')} removed, ${count('modified')} modified`);
  }
  lines.push('');
  return lines.join('\n');
}

/** One table row per changed object: what changed, the object (apiVersion, kind, namespace/name), its file, fields. */
function renderObjectRows(result: ReviewedDiff): string[] {
  return (result.semantic?.objects ?? []).map((object) => {
    const files = object.oldFile !== undefined && object.newFile !== undefined && object.oldFile !== object.newFile
      ? `${code(object.oldFile)} → ${code(object.newFile)}` : code(object.newFile ?? object.oldFile ?? '');
    const listed = object.fields.slice(0, MAX_FIELDS_LISTED).map((f) => code(f.path));
    const more = object.fields.length - listed.length;
    const fields = more > 0 ? [...listed, `${more} more`] : listed;
    return `| ${object.status} | ${code(object.object)} | ${files} | ${fields.join(', ')} |\n`;
  });
}

const OBJECTS_HEADER = '| Change | Object | File | Fields |\n|---|---|---|---|\n';

/** `secret`: the file holds a Kubernetes Secret, whose values a published diff must not show. */
function fileEntry(patch: ReviewedDiff['patches'][number], change: DiffResult['changes'][number] | undefined, secret: boolean): FileEntry {
  const size = (side: { size: number } | undefined) => (side === undefined ? 'none' : countOf(side.size, 'byte'));
  const sizes = `${size(change?.old)} → ${size(change?.new)}`;
  const name = escapeMarkdown(patch.path);
  if (patch.kind === 'binary') return { summary: `${name} (binary)`, line: `binary, ${sizes}` };
  if (patch.kind === 'large') return { summary: `${name} (too large to show)`, line: `too large to show here, ${sizes}` };
  if (patch.kind === 'mode') return { summary: `${name} (mode)`, line: `mode ${change?.old?.mode} → ${change?.new?.mode}` };
  let added = 0;
  let removed = 0;
  let inHunks = false;
  for (const line of patch.patch.split('\n')) {
    if (line.startsWith('@@')) inHunks = true;
    else if (inHunks && line.startsWith('+')) added++;
    else if (inHunks && line.startsWith('-')) removed++;
  }
  const counts = `${name} (+${added} −${removed})`;
  if (secret) return { summary: counts, line: 'holds a Kubernetes Secret: diff not shown (its changed fields are in the objects table, without values)' };
  const text = safeText(patch.patch).replace(/\n$/, '');
  const fence = fenceFor(text);
  return { summary: counts, body: `${fence}diff\n${text}\n${fence}` };
}

function renderEntry(entry: FileEntry, omitted = false): string {
  const inner = omitted ? 'diff omitted (size limit)' : (entry.body ?? entry.line ?? '');
  return `<details><summary>${entry.summary}</summary>\n\n${inner}\n\n</details>\n\n`;
}

/**
 * The document within `limit`: file diffs are dropped from the largest down and replaced by a line saying so; when
 * even that is too long (thousands of files), the last files and then the last object rows are left out, counted.
 * Only whole parts are dropped, so no fence or `<details>` is ever cut.
 */
function fit(head: string, objectRows: string[], entries: FileEntry[], limit: number): string {
  const rendered = entries.map((entry) => renderEntry(entry));
  const table = (rows: string[]) => (rows.length === 0 ? '' : `\n${OBJECTS_HEADER}${rows.join('')}`);
  const length = (parts: readonly string[]) => parts.reduce((sum, part) => sum + part.length, 0);
  // Room for the notes, whatever their numbers turn out to be.
  const reserve = 300;
  let total = head.length + table(objectRows).length + 1 + length(rendered);
  let omittedBodies = 0;
  if (total > limit) {
    const bySize = entries.map((entry, index) => ({ index, size: entry.body?.length ?? 0 })).filter((e) => e.size > 0).sort((a, b) => b.size - a.size);
    for (const { index } of bySize) {
      if (total + reserve <= limit) break;
      const shorter = renderEntry(entries[index] as FileEntry, true);
      total -= (rendered[index] as string).length - shorter.length;
      rendered[index] = shorter;
      omittedBodies++;
    }
  }
  let unlistedFiles = 0;
  while (total + reserve > limit && rendered.length > 0) {
    total -= (rendered.pop() as string).length;
    unlistedFiles++;
  }
  const rows = [...objectRows];
  let unlistedObjects = 0;
  while (total + reserve > limit && rows.length > 0) {
    total -= (rows.pop() as string).length;
    unlistedObjects++;
  }
  const notes = [
    ...(unlistedObjects > 0 ? [`${countOf(unlistedObjects, 'more object')} not listed (size limit)`] : []),
    ...(unlistedFiles > 0 ? [`${countOf(unlistedFiles, 'more file')} not listed (size limit)`] : []),
    ...(omittedBodies > 0 ? [`${countOf(omittedBodies, 'file diff')} omitted (size limit)`] : []),
  ];
  const note = notes.length === 0 ? '' : `${notes.join('; ')}; run \`oci-artifact diff\` locally.\n`;
  const files = rendered.length === 0 ? '' : `\n${rendered.join('')}`;
  return `${head}${table(rows)}${files}${note}`.replace(/\n+$/, '\n');
}
