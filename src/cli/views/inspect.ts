/** The table view of `inspect` (stdout), loaded only when `inspect` prints one. */
import { formatBytes } from '../../bytes.js';
import { Annotation } from '../../oci/mediatypes.js';
import type { InspectResult } from '../../ops/inspect.js';
import { renderFields, renderTable } from '../../output/printer.js';

function indented(text: string): string {
  return text.split('\n').map((line) => (line === '' ? line : `  ${line}`)).join('\n');
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${formatBytes(bytes)} (${bytes} B)`;
}

/** The human view: one section per part of the artifact. */
export function renderInspect(r: InspectResult): string {
  const out: string[] = [];
  out.push(renderFields([
    ['Reference', r.reference],
    ['Digest', r.digest],
    ['Media type', r.mediaType],
    ['Size', size(r.size)],
    ['Artifact type', r.artifactType],
  ]));
  if (r.config !== undefined) {
    out.push(`Config\n${renderFields([['Media type', r.config.mediaType], ['Digest', r.config.digest], ['Size', size(r.config.size)]], '  ')}`);
  }
  const annotations = Object.entries(r.annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  out.push(annotations.length === 0 ? 'Annotations\n  (none)\n' : `Annotations\n${renderFields(annotations, '  ')}`);
  if (r.manifests !== undefined) {
    const rows = r.manifests.map((m) => [m.mediaType, m.digest, formatBytes(m.size), platformOf(m.platform)]);
    out.push(`Manifests\n${indented(renderTable(['MEDIA TYPE', 'DIGEST', 'SIZE', 'PLATFORM'], rows))}`);
  } else {
    const rows = r.layers.map((l) => [l.mediaType, l.digest, formatBytes(l.size), l.annotations?.[Annotation.Title] ?? '']);
    out.push(`Layers\n${indented(renderTable(['MEDIA TYPE', 'DIGEST', 'SIZE', 'TITLE'], rows))}`);
  }
  if (r.files !== undefined) {
    const rows = r.files.map((f) => [modeString(f.type, f.mode), f.type === 'file' ? formatBytes(f.size) : '', f.linkTarget !== undefined ? `${f.path} -> ${f.linkTarget}` : f.path]);
    const title = `Files (${r.files.filter((f) => f.type === 'file').length} in layer ${r.filesLayer?.digest ?? ''})`;
    out.push(`${title}\n${indented(renderTable(['MODE', 'SIZE', 'PATH'], rows))}`);
  }
  if (r.referrers.length === 0) {
    out.push('Signatures and referrers\n  (none)\n');
  } else {
    // An attestation is told by its predicate type; everything else by its tag or artifact type.
    const rows = r.referrers.map((a) => [a.kind, a.tag ?? a.predicateType ?? a.artifactType ?? '', a.digest]);
    out.push(`Signatures and referrers\n${indented(renderTable(['KIND', 'TAG / TYPE', 'DIGEST'], rows))}`);
  }
  return out.join('\n');
}

function platformOf(platform: Record<string, unknown> | undefined): string {
  if (platform === undefined) return '';
  return [platform.os, platform.architecture, platform.variant].filter((p) => typeof p === 'string' && p !== '').join('/');
}

/** `-rw-r--r--` style, as tar -tv prints it. */
function modeString(type: 'file' | 'directory' | 'symlink', mode: number): string {
  const kind = type === 'directory' ? 'd' : type === 'symlink' ? 'l' : '-';
  const bits = 'rwxrwxrwx'.split('').map((c, i) => ((mode >> (8 - i)) & 1 ? c : '-')).join('');
  return kind + bits;
}
