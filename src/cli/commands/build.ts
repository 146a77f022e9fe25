import { build } from '../../ops/build.js';
import { formatBytes } from '../../bytes.js';
import { countOf } from '../../output/format.js';
import { createRuntime, parseInteger, splitList, type GlobalFlags } from '../options.js';

interface BuildFlags {
  path: string;
  output: string;
  compressionLevel?: string;
  ignorePaths?: string[];
  addIgnorePaths?: string[];
  resolveSymlinks?: boolean;
}

export async function run(_args: string[], rawFlags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const flags = rawFlags as unknown as BuildFlags;
  const runtime = await createRuntime(globals);
  try {
    const result = await build({
      path: flags.path,
      output: flags.output,
      ignorePaths: splitList(flags.ignorePaths),
      addIgnorePaths: splitList(flags.addIgnorePaths),
      resolveSymlinks: flags.resolveSymlinks,
      compressionLevel: parseInteger('--compression-level', flags.compressionLevel, 0, 9),
    }, runtime.ctx);
    runtime.reporter.success(`wrote ${flags.output} (${countOf(result.files, 'file')}, ${formatBytes(result.size)}, ${result.digest})`);
    return 0;
  } finally {
    runtime.dispose();
  }
}
