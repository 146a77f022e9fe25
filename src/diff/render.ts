import type { FileChange } from './compare.js';
import type { FieldChange, ObjectChange } from './semantic.js';

/**
 * Plain-text renderings of a diff result, pure so they are tested without a terminal. The CLI picks one and
 * writes it to stdout (the diff is the command's output, as with diff(1)).
 */

const STATUS_WIDTH = 'modified'.length + 2;

/** One line per changed file: `added     path`, `modified  path (mode 644 -> 755)`, `mode      path 644 -> 755`. */
export function renderStatusLines(changes: readonly FileChange[]): string {
  return changes.map((change) => {
    const flip = change.old && change.new && change.old.executable !== change.new.executable
      ? `${change.old.mode} -> ${change.new.mode}` : undefined;
    const label = change.status === 'mode-changed' ? 'mode' : change.status;
    const tail = flip === undefined ? '' : change.status === 'mode-changed' ? ` ${flip}` : ` (mode ${flip})`;
    return `${label.padEnd(STATUS_WIDTH)}${change.path}${tail}\n`;
  }).join('');
}

/** `--brief`: the changed paths only, one per line. */
export function renderPaths(changes: readonly FileChange[]): string {
  return changes.map((change) => `${change.path}\n`).join('');
}

const MAX_VALUE_CHARS = 120;

/** A value as one line of JSON, shortened when long (the JSON output carries it whole). */
function renderValue(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

function renderField(field: FieldChange): string {
  if (field.change === 'added') return `    + ${field.path}: ${renderValue(field.new)}\n`;
  if (field.change === 'removed') return `    - ${field.path}: ${renderValue(field.old)}\n`;
  return `    ~ ${field.path}: ${renderValue(field.old)} -> ${renderValue(field.new)}\n`;
}

/** `~ apps/v1 Deployment default/web (deploy.yaml)` followed by its changed fields; `+`/`-` for whole objects. */
export function renderObjectChanges(changes: readonly ObjectChange[]): string {
  return changes.map((change) => {
    const mark = change.status === 'added' ? '+' : change.status === 'removed' ? '-' : '~';
    const files = change.oldFile !== undefined && change.newFile !== undefined && change.oldFile !== change.newFile
      ? `${change.oldFile} -> ${change.newFile}` : (change.newFile ?? change.oldFile);
    return `${mark} ${change.object} (${files})\n${change.fields.map(renderField).join('')}`;
  }).join('');
}
