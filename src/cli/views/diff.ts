/** The table view of `diff` (stdout), loaded only when `diff` prints one. */
import { renderObjectChanges, renderPaths, renderStatusLines } from '../../diff/render.js';
import type { DiffResult } from '../../ops/diff.js';
import { countOf } from '../../output/format.js';

/** Changes that count: with --semantic, YAML files compared as objects speak through their objects. */
function countedChanges(result: DiffResult) {
  const semanticFiles = new Set(result.semantic?.files ?? []);
  return result.changes.filter((c) => !semanticFiles.has(c.path));
}

export function renderBrief(result: DiffResult): string {
  if (result.semantic === undefined) return renderPaths(result.changes);
  const paths = new Set(countedChanges(result).map((c) => c.path));
  for (const object of result.semantic.objects) {
    if (object.oldFile !== undefined) paths.add(object.oldFile);
    if (object.newFile !== undefined) paths.add(object.newFile);
  }
  return [...paths].sort().map((p) => `${p}\n`).join('');
}

export function renderFull(result: DiffResult): string {
  const semantic = result.semantic === undefined ? '' : renderObjectChanges(result.semantic.objects);
  const files = result.patches !== undefined ? result.patches.map((p) => p.patch).join('') : renderStatusLines(countedChanges(result));
  return semantic + files;
}

export function summarise(result: DiffResult, say: (line: string) => void): void {
  const label = (info: DiffResult['old']) => info.path ?? info.reference ?? info.digest ?? '';
  if (!result.differs) {
    const cosmetic = result.changes.length === 0 ? '' : ` (${countOf(result.changes.length, 'YAML file differs', 'YAML files differ')} only in formatting, comments or key order)`;
    say(`no differences between ${label(result.old)} and ${label(result.new)}${cosmetic}`);
    return;
  }
  const { added, removed, modified, modeChanged } = result.summary;
  const parts = [`${added} added`, `${removed} removed`, `${modified} modified`, `${modeChanged} mode changed`];
  const objects = result.semantic === undefined ? '' : `; ${countOf(result.semantic.objects.length, 'object differs', 'objects differ')}`;
  say(`${label(result.old)} and ${label(result.new)} differ: ${parts.join(', ')}${objects}`);
}
