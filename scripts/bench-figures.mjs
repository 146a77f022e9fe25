#!/usr/bin/env node
// Writes the README's performance figures (between the bench-figures markers) from bench/results.md, which a full
// `npm run bench` writes (and then runs this script), so the README says what the bench measured, never typed
// figures. test/unit/bench-figures.test.ts fails when the paragraph and bench/results.md disagree.
//
//   node scripts/bench-figures.mjs            rewrite README.md from bench/results.md
//   node scripts/bench-figures.mjs --check    exit 1 when README.md's paragraph is not what bench/results.md gives
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markedParagraph, replaceMarked, wrap } from './readme-markers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const README = join(ROOT, 'README.md');
export const RESULTS = join(ROOT, 'bench', 'results.md');
export const START = '<!-- bench-figures: written by scripts/bench-figures.mjs from bench/results.md -->';
export const END = '<!-- /bench-figures -->';

/** A Markdown table row's cells (bench/lib/report.ts escapes `|` inside a cell as `\|`). */
function cells(line) {
  return line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/**
 * What results.md says: the run (date, commit, machine) and the targets under `## Targets`, grouped by the
 * `### section` headings bench/lib/report.ts renderTargets writes (a file without them is one untitled group).
 */
export function parseResults(markdown) {
  const lines = markdown.split('\n');
  const field = (prefix) => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length).trim();
  const dateLine = field('- date:') ?? '';
  const run = {
    date: dateLine.split(',')[0]?.trim().slice(0, 10) ?? '',
    commit: /commit (\S+)/.exec(dateLine)?.[1] ?? 'unknown',
    cpu: (field('- CPU:') ?? '').split(';')[0].replace(/ \(nproc \d+\)/, ''),
    node: /^- node (\S+?);/m.exec(markdown)?.[1] ?? '',
  };
  const start = lines.findIndex((l) => l.startsWith('## Targets'));
  if (start < 0) throw new Error('bench/results.md has no "## Targets" section');
  const groups = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    if (line.startsWith('### ')) groups.push({ title: line.slice(4).trim(), targets: [] });
    else if (line.startsWith('| ') && !line.startsWith('| target |') && !line.startsWith('| ---')) {
      if (groups.length === 0) groups.push({ title: '', targets: [] });
      const [name, measured, limit, status] = cells(line);
      groups.at(-1).targets.push({ name, measured, limit, status });
    }
  }
  if (groups.length === 0) throw new Error('bench/results.md lists no targets');
  return { run, groups };
}

/** The README paragraph for parsed results: one sentence on the run, then one line per section with its targets. */
export function performanceParagraph({ run, groups }) {
  const targets = groups.flatMap((g) => g.targets);
  const limited = targets.filter((t) => t.status !== 'reported');
  const met = limited.filter((t) => t.status === 'met').length;
  const intro = wrap(
    `Measured by \`npm run bench\` on ${run.date} (commit ${run.commit}, ${run.cpu}, node ${run.node}; every ratio against a ` +
      `baseline run in the same session, details in [bench/results.md](bench/results.md)): ${met} of ${limited.length} targets met.`,
    115,
  );
  const figure = (t) => `${t.name}: ${t.measured}${t.limit === '—' ? '' : ` (${t.limit}, ${t.status})`}`;
  const bullet = (text) => wrap(text, 113).split('\n').map((line, i) => `${i === 0 ? '- ' : '  '}${line}`).join('\n');
  const lines = groups.map((g) => bullet(`${g.title ? `${g.title}: ` : ''}${g.targets.map(figure).join('; ')}.`));
  return [intro, '', ...lines].join('\n');
}

/** Undefined when README.md's paragraph is what results.md gives, else what differs. */
export function checkReadme(readme, resultsMarkdown) {
  const have = markedParagraph(readme, START, END).text;
  const want = performanceParagraph(parseResults(resultsMarkdown));
  return have === want ? undefined : `README.md's performance figures are not bench/results.md's; run: node scripts/bench-figures.mjs\nREADME:\n${have}\nresults.md gives:\n${want}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readme = readFileSync(README, 'utf8');
  const results = readFileSync(RESULTS, 'utf8');
  if (process.argv[2] === '--check') {
    const problem = checkReadme(readme, results);
    if (problem !== undefined) {
      console.error(problem);
      process.exit(1);
    }
    console.log('bench figures: README matches bench/results.md');
  } else {
    writeFileSync(README, replaceMarked(readme, START, END, performanceParagraph(parseResults(results))));
    console.log(`README.md: performance figures written from ${RESULTS}`);
  }
}
