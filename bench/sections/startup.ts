import { BIN, NODE, bounded, cliEnv, type BenchContext } from '../lib/context.js';
import { runOk } from '../lib/proc.js';
import { median, ms, ratio, type SectionResult } from '../lib/report.js';

/** (a) Start-up: `--version` and `--help` against bare `node -e 0`, interleaved so drift hits all alike. */
export async function startup(ctx: BenchContext): Promise<SectionResult> {
  const cases: [string, string[]][] = [
    ['node -e 0', ['-e', '0']],
    ['oci-artifact --version', [BIN, '--version']],
    ['oci-artifact --help', [BIN, '--help']],
    ['oci-artifact push --help', [BIN, 'push', '--help']],
  ];
  const times = cases.map(() => [] as number[]);
  const env = cliEnv();
  // Warm the page cache and V8's code cache once before measuring.
  for (const [, args] of cases) await runOk(NODE, args, { env });
  const runs = await bounded(ctx.settings.runs * 2, 120_000, async () => {
    for (const [i, [, args]] of cases.entries()) times[i]!.push((await runOk(NODE, args, { env, timeoutMs: 30_000 })).ms);
  });
  const bare = median(times[0]!);
  const rows = cases.map(([name], i) => {
    const m = median(times[i]!);
    return [name, ms(m), ms(Math.min(...times[i]!)), ratio(m / bare)];
  });
  const version = median(times[1]!) / bare;
  const help = median(times[2]!) / bare;
  return {
    title: '(a) Start-up',
    tables: [{ columns: ['command', 'median wall', 'fastest', 'vs node -e 0'], rows }],
    notes: [`${runs} interleaved runs of each; ratio of medians.`],
    targets: [
      { name: 'start-up: --version vs node -e 0', measured: version, limit: 1.3, unit: 'x' },
      { name: 'start-up: --help vs node -e 0', measured: help, limit: 1.5, unit: 'x' },
    ],
  };
}
