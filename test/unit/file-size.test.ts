import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/**
 * A module a newcomer can read in one sitting: no source file over 300 lines unless its opening comment says why
 * ("Longer than 300 lines because ...").
 */
const LIMIT = 300;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The first block comment of a file (after its imports), where a module says what it is for. */
function openingComment(text: string): string {
  return /\/\*\*?([\s\S]*?)\*\//.exec(text)?.[1] ?? '';
}

describe('file size', () => {
  it(`no file in src/ is over ${LIMIT} lines without a reason in its opening comment`, () => {
    const unexplained = sourceFiles(join(ROOT, 'src'))
      .map((path) => ({ path, text: readFileSync(path, 'utf8') }))
      .filter(({ text }) => text.split('\n').length > LIMIT && !/Longer than 300 lines because/.test(openingComment(text)))
      .map(({ path, text }) => `${relative(ROOT, path)} (${text.split('\n').length} lines)`);
    expect(unexplained).toEqual([]);
  });
});
