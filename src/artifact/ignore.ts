import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ignore from 'ignore';
import { OciError } from '../errors.js';

/**
 * Which paths of a pushed tree are left out of the artifact, with gitignore semantics (the `ignore` package).
 *
 * Order of rules, later ones winning as in a .gitignore file:
 *   1. `ignorePaths` when given (it REPLACES the defaults, like Flux's `--ignore-paths`), else
 *      DEFAULT_IGNORE_PATTERNS;
 *   2. `addIgnorePaths` (appended, like `--add-ignore-paths`);
 *   3. the lines of a `.sourceignore` file at the root of the pushed directory, if there is one.
 *
 * `flux push` itself does not read `.sourceignore`; Flux's source-controller applies it when it re-archives a
 * source. We apply the root one at push time so what is pushed is what the cluster would use. The
 * `.sourceignore` file itself is packed (unless a rule excludes it), so source-controller still sees it.
 */
export const DEFAULT_IGNORE_PATTERNS: readonly string[] = [
  '.git/',
  '.gitignore',
  '.gitmodules',
  '.gitattributes',
  '*.jpg',
  '*.jpeg',
  '*.gif',
  '*.png',
  '*.wmv',
  '*.flv',
  '*.tar.gz',
  '*.zip',
];

const SOURCEIGNORE_FILE = '.sourceignore';

export interface IgnoreOptions {
  /** Replaces DEFAULT_IGNORE_PATTERNS (an empty array ignores nothing). */
  ignorePaths?: string[];
  /** Appended after the defaults or `ignorePaths`. */
  addIgnorePaths?: string[];
}

/** True when `relPath` ('/'-separated, relative to the root, never '' or './x') must be left out. */
export type IgnoreMatcher = (relPath: string, isDir: boolean) => boolean;

/** The patterns in effect before any `.sourceignore` is read. */
function effectivePatterns(options: IgnoreOptions = {}): string[] {
  return [...(options.ignorePaths ?? DEFAULT_IGNORE_PATTERNS), ...(options.addIgnorePaths ?? [])];
}

/**
 * Build the matcher for a tree. `rootDir` is the pushed directory (its `.sourceignore` is read); pass undefined
 * for a single-file input, which has no root directory of its own.
 */
export async function createIgnoreMatcher(rootDir: string | undefined, options: IgnoreOptions = {}): Promise<IgnoreMatcher> {
  const rules = ignore().add(effectivePatterns(options));
  if (rootDir !== undefined) {
    const sourceIgnore = await readSourceIgnore(rootDir);
    if (sourceIgnore !== undefined) rules.add(sourceIgnore);
  }
  // gitignore tells directories from files by a trailing slash (so `.git/` matches only a directory).
  return (relPath, isDir) => rules.ignores(isDir ? `${relPath}/` : relPath);
}

async function readSourceIgnore(rootDir: string): Promise<string | undefined> {
  try {
    return await readFile(join(rootDir, SOURCEIGNORE_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new OciError('SOURCEIGNORE_UNREADABLE', `cannot read ${join(rootDir, SOURCEIGNORE_FILE)}: ${code ?? String(err)}`, {
      kind: 'usage',
      cause: err,
    });
  }
}
