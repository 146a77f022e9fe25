import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/**
 * docs/reliability.md keeps figures produced by the test runs between `<!-- NAME:begin -->` and `<!-- NAME:end -->`
 * markers; a suite run with RELIABILITY_DOC=1 replaces its own section and leaves the rest of the page alone.
 */
export const RELIABILITY_DOC = join(ROOT, 'docs', 'reliability.md');

export async function writeReliabilitySection(name: string, markdown: string): Promise<void> {
  const page = await readFile(RELIABILITY_DOC, 'utf8');
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const from = page.indexOf(begin);
  const to = page.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${RELIABILITY_DOC} has no ${begin} … ${end} section`);
  await writeFile(RELIABILITY_DOC, `${page.slice(0, from + begin.length)}\n${markdown.trim()}\n${page.slice(to)}`);
}
