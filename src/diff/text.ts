import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import type { FileChange } from './compare.js';

/** Larger files are summarised: a line diff of megabytes is neither readable nor cheap. */
export const MAX_TEXT_DIFF_BYTES = 1024 * 1024;

/** Text if valid UTF-8 without NUL bytes (git's heuristic looks for NUL; UTF-8 validity also catches most binaries). */
export function isText(content: Buffer): boolean {
  if (content.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(content);
    return true;
  } catch {
    return false;
  }
}

/**
 * One changed file's patch. `kind` says what it holds, for views that show each kind their own way: a unified diff
 * (`text`), a one-line summary of `binary` or `large` content, or only the mode lines (`mode`).
 */
export interface FilePatch {
  kind: 'text' | 'binary' | 'large' | 'mode';
  patch: string;
}

/**
 * A git-style patch for one changed file: mode lines when the executable bit flipped, a unified diff for text,
 * a one-line summary for binary or oversized content (whose bytes the caller need not load). `oldContent` and
 * `newContent` are undefined on the side where the file does not exist.
 */
export function renderFilePatch(change: FileChange, oldContent: Buffer | undefined, newContent: Buffer | undefined): FilePatch {
  const oldName = change.old ? patchName('a/', change.path) : '/dev/null';
  const newName = change.new ? patchName('b/', change.path) : '/dev/null';
  const lines = [`diff ${patchName('a/', change.path)} ${patchName('b/', change.path)}`];
  if (change.status === 'added') lines.push(`new file mode ${change.new?.mode}`);
  if (change.status === 'removed') lines.push(`deleted file mode ${change.old?.mode}`);
  if (change.old && change.new && change.old.executable !== change.new.executable) {
    lines.push(`old mode ${change.old.mode}`, `new mode ${change.new.mode}`);
  }
  if (change.status === 'mode-changed') return { kind: 'mode', patch: `${lines.join('\n')}\n` };

  if ((change.old?.size ?? 0) > MAX_TEXT_DIFF_BYTES || (change.new?.size ?? 0) > MAX_TEXT_DIFF_BYTES) {
    lines.push(`Large files ${oldName} and ${newName} differ (${sizes(change)})`);
    return { kind: 'large', patch: `${lines.join('\n')}\n` };
  }
  const contents = [oldContent, newContent].filter((c): c is Buffer => c !== undefined);
  if (!contents.every(isText)) {
    lines.push(`Binary files ${oldName} and ${newName} differ (${sizes(change)})`);
    return { kind: 'binary', patch: `${lines.join('\n')}\n` };
  }
  const patch = createTwoFilesPatch(oldName, newName, oldContent?.toString('utf8') ?? '', newContent?.toString('utf8') ?? '',
    undefined, undefined, { context: 3, headerOptions: FILE_HEADERS_ONLY });
  return { kind: 'text', patch: `${lines.join('\n')}\n${patch.endsWith('\n') ? patch : `${patch}\n`}` };
}

/**
 * A path in a patch header, quoted with escapes (as git quotes names) when it holds a line break, a quote or a
 * backslash: a file name with a line break must not add a line to the patch (a forged hunk or header). Other
 * control characters are left to the printer, which escapes them everywhere.
 */
function patchName(prefix: string, path: string): string {
  const name = `${prefix}${path}`;
  if (!/["\\\n\r]/.test(name)) return name;
  return `"${name.replace(/["\\]/g, '\\$&').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

function sizes(change: FileChange): string {
  const from = change.old ? `${change.old.size} bytes` : 'none';
  const to = change.new ? `${change.new.size} bytes` : 'none';
  return `${from} -> ${to}`;
}
