import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../../test/helpers/registry.js';
import { PROVENANCE, type BenchContext } from '../lib/context.js';
import type { RunResult } from '../lib/proc.js';
import { mib, ms, type SectionResult, type Target } from '../lib/report.js';

/**
 * (h) Peak RSS of `copy` and `diff` on the large artifact (256 MiB of YAML by default): copy between two
 * registries (every byte flows through the CLI), within one registry (a cross-repository mount), into an OCI
 * layout directory; diff of two such artifacts that differ in a few files, as a file list and as a unified diff.
 */
const CHANGED_FILES = ['apps/app-000/resource-000.yaml', 'apps/app-010/resource-005.yaml', 'apps/app-063/resource-031.yaml'];
const LIMIT_MIB = 150;

export async function memory(ctx: BenchContext): Promise<SectionResult> {
  const registry = await ctx.registry();
  const other = await startRegistry();
  try {
    return await measureAll(ctx, registry.host, other.host);
  } finally {
    await other.stop();
  }
}

async function measureAll(ctx: BenchContext, reg: string, otherReg: string): Promise<SectionResult> {
  const size = ctx.settings.largeMiB;
  const { tree } = ctx.large();
  // The second tree: hard links to the first, but for a few files rewritten (a new inode each, so the first stays).
  const changed = join(ctx.work, 'memory-tree-changed');
  execFileSync('cp', ['-al', tree, changed]);
  for (const [i, file] of CHANGED_FILES.entries()) {
    rmSync(join(changed, file));
    writeFileSync(join(changed, file), `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: changed-${i}\ndata:\n  release: "${i}"\n`);
  }
  ctx.log('  pushing the two artifacts');
  const a = `oci://${reg}/memory/a:v1`;
  const b = `oci://${reg}/memory/b:v1`;
  await ctx.cliOk(['push', a, '--path', tree, ...PROVENANCE], { timeoutMs: 600_000 });
  await ctx.cliOk(['push', b, '--path', changed, ...PROVENANCE], { timeoutMs: 600_000 });
  rmSync(changed, { recursive: true, force: true });

  const measured = (args: string[], exitCode = 0) => async (): Promise<RunResult> => {
    const r = await ctx.cli(args, { measureRss: true, timeoutMs: 600_000 });
    if (r.code !== exitCode) throw new Error(`oci-artifact ${args.join(' ')} exited ${r.code ?? 'on timeout'}, not ${exitCode}: ${r.stderr.trim().slice(0, 2000)}`);
    return r;
  };
  const layout = join(ctx.work, 'memory-layout');
  const cases: Array<{ name: string; run: () => Promise<RunResult>; target?: string }> = [
    { name: 'copy registry → another registry', run: measured(['copy', a, `oci://${otherReg}/memory/a:v1`]), target: 'copy registry → registry' },
    { name: 'copy registry → same registry, another repository (mount)', run: measured(['copy', a, `oci://${reg}/memory/mounted:v1`]) },
    { name: 'copy registry → oci-layout directory', run: measured(['copy', a, `oci-layout://${layout}:v1`]), target: 'copy registry → oci-layout' },
    { name: 'diff of two artifacts (file list)', run: measured(['diff', a, b, '--max-size', '0'], 1), target: 'diff of two artifacts' },
    { name: 'diff of two artifacts --unified', run: measured(['diff', a, b, '--max-size', '0', '--unified'], 1), target: 'diff --unified of two artifacts' },
  ];
  const rows: string[][] = [];
  const targets: Target[] = [];
  for (const c of cases) {
    ctx.log(`  ${c.name}`);
    const r = await c.run();
    rows.push([c.name, ms(r.ms), mib(r.peakRssMiB)]);
    if (c.target !== undefined) targets.push({ name: `${c.target} ${size} MiB: peak RSS`, measured: r.peakRssMiB, limit: LIMIT_MIB, unit: ' MiB' });
  }
  rmSync(layout, { recursive: true, force: true });
  return {
    title: `(h) Memory of copy and diff: ${size} MiB artifacts`,
    tables: [{ columns: ['command', 'wall', 'peak RSS'], rows }],
    notes: [
      `The large tree (2048 files) pushed twice: as it is, and with ${CHANGED_FILES.length} files rewritten; one run each (peak RSS does not depend on the machine's load, wall does).`,
      'Peak RSS is the CLI process\'s maximum resident set (GNU time %M). The registries run on the same machine.',
    ],
    targets,
  };
}
