/**
 * File-level comparison of two artifact contents. Only what a consumer of the artifact sees counts: the path,
 * the content hash and whether the file is executable. Tar headers, gzip bytes, owners and times never do, so two
 * archives of the same tree built by different tools compare equal.
 */
export interface FileEntry {
  /** '/'-separated path relative to the artifact root, without a leading './'. */
  path: string;
  mode: number;
  size: number;
  /** `sha256:<hex>` of the content. */
  sha256: string;
}

export type ChangeStatus = 'added' | 'removed' | 'modified' | 'mode-changed';

export interface FileChange {
  path: string;
  /** `modified` when the content differs (whether or not the mode does too), `mode-changed` when only the mode does. */
  status: ChangeStatus;
  old?: FileSide;
  new?: FileSide;
}

export interface FileSide {
  sha256: string;
  size: number;
  /** Permission bits as octal text, e.g. "644". */
  mode: string;
  executable: boolean;
}

export interface ChangeSummary {
  added: number;
  removed: number;
  modified: number;
  modeChanged: number;
}

/** Any execute bit set: the only part of the mode that survives every tool and that matters to a consumer. */
export function isExecutable(mode: number): boolean {
  return (mode & 0o111) !== 0;
}

function side(entry: FileEntry): FileSide {
  return { sha256: entry.sha256, size: entry.size, mode: (entry.mode & 0o7777).toString(8), executable: isExecutable(entry.mode) };
}

function byPath(entries: readonly FileEntry[]): Map<string, FileEntry> {
  const map = new Map<string, FileEntry>();
  for (const entry of entries) map.set(entry.path, entry);
  return map;
}

/** Changes turning `oldFiles` into `newFiles`, sorted by path (code-unit order, stable across runs). */
export function compareFiles(oldFiles: readonly FileEntry[], newFiles: readonly FileEntry[]): FileChange[] {
  const before = byPath(oldFiles);
  const after = byPath(newFiles);
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changes: FileChange[] = [];
  for (const path of paths) {
    const a = before.get(path);
    const b = after.get(path);
    if (a === undefined && b !== undefined) {
      changes.push({ path, status: 'added', new: side(b) });
    } else if (a !== undefined && b === undefined) {
      changes.push({ path, status: 'removed', old: side(a) });
    } else if (a !== undefined && b !== undefined) {
      const content = a.sha256 !== b.sha256;
      const mode = isExecutable(a.mode) !== isExecutable(b.mode);
      if (content || mode) changes.push({ path, status: content ? 'modified' : 'mode-changed', old: side(a), new: side(b) });
    }
  }
  return changes;
}

export function summarise(changes: readonly FileChange[]): ChangeSummary {
  const summary: ChangeSummary = { added: 0, removed: 0, modified: 0, modeChanged: 0 };
  for (const change of changes) {
    if (change.status === 'added') summary.added++;
    else if (change.status === 'removed') summary.removed++;
    else if (change.status === 'modified') summary.modified++;
    else summary.modeChanged++;
  }
  return summary;
}
