import { DEFAULT_LIST_CONCURRENCY, list } from '../../ops/list.js';
import { parseOutputFormat, printDocument, printText, renderTable } from '../../output/printer.js';
import { usableWidth } from '../../output/terminal.js';
import { shortDigest } from '../../ref/digest.js';
import { parseReference } from '../../ref/reference.js';
import { createRuntime, parseInteger, type GlobalFlags } from '../options.js';

interface ListFlags {
  filterSemver?: string;
  filterRegex?: string;
  all?: boolean;
  concurrency?: string;
  pageSize?: string;
  output?: string;
}

export async function run(args: string[], rawFlags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const flags = rawFlags as unknown as ListFlags;
  const ref = parseReference(args[0] as string);
  const format = parseOutputFormat(flags.output, 'table');
  const concurrency = parseInteger('--concurrency', flags.concurrency, 1, 64) ?? DEFAULT_LIST_CONCURRENCY;
  const pageSize = parseInteger('--page-size', flags.pageSize, 1, 10_000);
  const runtime = await createRuntime(globals);
  try {
    const result = await list({
      ref,
      semver: flags.filterSemver,
      regex: flags.filterRegex,
      all: flags.all,
      concurrency,
      pageSize,
    }, runtime.ctx);
    runtime.reporter.finish();
    if (format !== 'table') {
      await printDocument(process.stdout, format, result.artifacts);
      return 0;
    }
    // The table is the command's output (stdout), as with `flux list artifacts`; the full digest is in -o json.
    const rows = result.artifacts.map((a) => [a.url, shortDigest(a.digest), a.source ?? '', a.revision ?? '', a.created ?? '']);
    // On a terminal the table fits its width: the revision (often a long branch name) gives way, never wraps.
    const fit = { width: usableWidth(process.stdout), shrink: 3 };
    printText(process.stdout, renderTable(['ARTIFACT', 'DIGEST', 'SOURCE', 'REVISION', 'CREATED'], rows, fit));
    return 0;
  } finally {
    runtime.dispose();
  }
}
