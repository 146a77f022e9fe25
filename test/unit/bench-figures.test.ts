import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script without type declarations (run by node, imported here to check its output)
import { README, RESULTS, checkReadme, parseResults, performanceParagraph } from '../../scripts/bench-figures.mjs';
import { renderTargets, type SectionResult } from '../../bench/lib/report.js';

/**
 * The README's performance paragraph is written by scripts/bench-figures.mjs from bench/results.md (issue 17: "the
 * README's performance paragraph is regenerated from it, not typed"): a figure typed into the README, or a bench
 * run whose results were not carried over, fails here.
 */
describe("README's performance figures", () => {
  it('are the figures of bench/results.md', () => {
    expect(checkReadme(readFileSync(README, 'utf8'), readFileSync(RESULTS, 'utf8'))).toBeUndefined();
  });

  it('a figure typed into the README is caught', () => {
    const readme = readFileSync(README, 'utf8');
    const results = readFileSync(RESULTS, 'utf8');
    const first = parseResults(results).groups[0].targets[0].measured as string;
    const typed = readme.replace(`: ${first} (`, `: 0.99${first.replace(/^[\d.]+/, '')} (`);
    expect(typed).not.toBe(readme);
    expect(checkReadme(typed, results)).toMatch(/not bench\/results\.md's; run: node scripts\/bench-figures\.mjs/);
  });
});

describe('scripts/bench-figures.mjs', () => {
  // The targets as bench/run.ts writes them (bench/lib/report.ts), grouped by section.
  const sections: SectionResult[] = [
    { title: '(a) Start-up', tables: [], notes: [], targets: [
      { name: 'start-up: --help vs node -e 0', measured: 1.31, limit: 1.5, unit: 'x' },
      { name: 'start-up: push --help vs node -e 0', measured: 2.2, limit: 2, unit: 'x' },
    ] },
    { title: 'npx cost', tables: [], notes: [], targets: [
      { name: 'installed size', measured: 20.4, limit: undefined, unit: ' MiB' },
      { name: 'push 256 MiB vs tar | pigz', measured: undefined, limit: 1.1, unit: 'x', missing: 'no pigz' },
    ] },
  ];
  const results = [
    '# Benchmark results', '',
    '- date: 2026-12-01T05:00:00.000Z, commit abc1234',
    '- CPU: 2 × Example CPU (nproc 2); memory 8.0 GiB; Linux 6.1',
    '- node v20.20.2; registry: docker-registry 2.8.2',
    '', renderTargets(sections), '## (a) Start-up', '', '| command | median wall |', '| --- | --- |', '| node -e 0 | 60 ms |',
  ].join('\n');

  it('reads the run and every section\'s targets back from results.md, pipes in names included', () => {
    const parsed = parseResults(results);
    expect(parsed.run).toEqual({ date: '2026-12-01', commit: 'abc1234', cpu: '2 × Example CPU', node: 'v20.20.2' });
    expect(parsed.groups.map((g: { title: string }) => g.title)).toEqual(['(a) Start-up', 'npx cost']);
    expect(parsed.groups[1].targets).toEqual([
      { name: 'installed size', measured: '20 MiB', limit: '—', status: 'reported' },
      { name: 'push 256 MiB vs tar | pigz', measured: '—', limit: '≤ 1.10×', status: 'not measured (no pigz)' },
    ]);
  });

  it('writes one line per section, each figure with its limit and met/missed; reported figures without', () => {
    expect(performanceParagraph(parseResults(results))).toBe([
      'Measured by `npm run bench` on 2026-12-01 (commit abc1234, 2 × Example CPU, node v20.20.2; every ratio against a',
      'baseline run in the same session, details in [bench/results.md](bench/results.md)): 1 of 3 targets met.',
      '',
      '- (a) Start-up: start-up: --help vs node -e 0: 1.31× (≤ 1.50×, met); start-up: push --help vs node -e 0: 2.20× (≤',
      '  2.00×, missed by 0.20×).',
      '- npx cost: installed size: 20 MiB; push 256 MiB vs tar | pigz: — (≤ 1.10×, not measured (no pigz)).',
    ].join('\n'));
  });
});
