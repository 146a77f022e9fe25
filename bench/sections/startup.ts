import { BIN, NODE, bounded, cliEnv, type BenchContext } from '../lib/context.js';
import { runOk } from '../lib/proc.js';
import { median, ms, ratio, type SectionResult } from '../lib/report.js';

/**
 * (a) Start-up: `--version`, `--help` and every command's `--help` against bare `node -e 0`, interleaved so drift
 * hits all alike. A command's `--help` loads that command's module and what it imports at top level: the slowest
 * of them is the command start-up target (issue 17: `push --help` ≤ 2×).
 */
export async function startup(ctx: BenchContext): Promise<SectionResult> {
  const env = cliEnv();
  const commands = await commandNames();
  const cases: [string, string[]][] = [
    ['node -e 0', ['-e', '0']],
    ['oci-artifact --version', [BIN, '--version']],
    ['oci-artifact --help', [BIN, '--help']],
    ...commands.map((name): [string, string[]] => [`oci-artifact ${name} --help`, [BIN, name, '--help']]),
  ];
  const times = cases.map(() => [] as number[]);
  // Warm the page cache once before measuring.
  for (const [, args] of cases) await runOk(NODE, args, { env });
  const runs = await bounded(ctx.settings.runs * 2, 150_000, async () => {
    for (const [i, [, args]] of cases.entries()) times[i]!.push((await runOk(NODE, args, { env, timeoutMs: 30_000 })).ms);
  });
  const bare = median(times[0]!);
  const ratios = cases.map((_, i) => median(times[i]!) / bare);
  const rows = cases.map(([name], i) => [name, ms(median(times[i]!)), ms(Math.min(...times[i]!)), ratio(ratios[i]!)]);
  const commandRatios = commands.map((name, i) => ({ name, ratio: ratios[i + 3]! }));
  const push = commandRatios.find((c) => c.name === 'push');
  const slowest = commandRatios.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  return {
    title: '(a) Start-up',
    tables: [{ columns: ['command', 'median wall', 'fastest', 'vs node -e 0'], rows }],
    notes: [
      `${runs} interleaved runs of each; ratio of medians. stdout goes to /dev/null and stderr to a pipe, as in a CI log.`,
      'A command\'s `--help` loads its own module and the small cli helpers it imports, never the others (test/e2e/startup.test.ts lists what each loads).',
    ],
    targets: [
      { name: 'start-up: --version vs node -e 0', measured: ratios[1], limit: 1.3, unit: 'x' },
      { name: 'start-up: --help vs node -e 0', measured: ratios[2], limit: 1.5, unit: 'x' },
      { name: 'start-up: push --help vs node -e 0', measured: push?.ratio, limit: 2, unit: 'x', ...(push === undefined ? { missing: 'no push command' } : {}) },
      { name: `start-up: slowest command --help (${slowest.name}) vs node -e 0`, measured: slowest.ratio, limit: 2, unit: 'x' },
    ],
  };
}

/** The commands `--help` lists (its implicit `help` command aside). */
async function commandNames(): Promise<string[]> {
  const help = (await runOk(NODE, [BIN, '--help'], { env: cliEnv(), captureStdout: true })).stdout;
  const list = help.slice(help.indexOf('\nCommands:\n'));
  const names = [...list.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
  if (names.length === 0) throw new Error('`oci-artifact --help` lists no commands');
  return names;
}
