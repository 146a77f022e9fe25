import { copy } from '../../ops/copy.js';
import { parseOutputFormat, printDocument, printText } from '../../output/printer.js';
import { formatReference, parseReference, withVersion } from '../../ref/reference.js';
import { reportCi } from '../ci-report.js';
import { createRuntime, parseInteger, type GlobalFlags } from '../options.js';
import { countOf } from '../../output/format.js';
import type { SideFlags } from '../creds-input.js';

interface CopyFlags extends SideFlags {
  includeSignatures?: boolean;
  concurrency?: string;
  output?: string;
  dotenv?: string;
}

export async function run(args: string[], rawFlags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const flags = rawFlags as unknown as CopyFlags;
  const source = parseReference(args[0] as string);
  const destination = parseReference(args[1] as string);
  const format = parseOutputFormat(flags.output, 'table');
  const concurrency = parseInteger('--concurrency', flags.concurrency, 1, 64);
  const runtime = await createRuntime(globals, { source, destination, sides: flags });
  try {
    const result = await copy({
      source,
      destination,
      // Both --include-signatures and --no-include-signatures are accepted; on unless turned off.
      includeSignatures: flags.includeSignatures !== false,
      concurrency,
    }, runtime.ctx);
    const { blobs } = result;
    const parts = [`${countOf(blobs.copied, 'blob')} copied`, `${blobs.skipped} already present`];
    if (blobs.mounted > 0) parts.push(`${blobs.mounted} mounted`);
    if (result.signatures > 0) parts.push(`${countOf(result.signatures, 'signature or referrer', 'signatures and referrers')}`);
    runtime.reporter.success(`copied ${result.source} to ${result.destination} (${parts.join(', ')})`);
    const signatures = result.signatures > 0 ? `${countOf(result.signatures, 'signature or referrer', 'signatures and referrers')} copied` : undefined;
    await reportCi('copy', { url: formatReference(withVersion(destination, { digest: result.digest })), digest: result.digest, reference: result.destination, signatures }, flags.dotenv);
    if (format === 'table') printText(process.stdout, `${result.destination}\n`);
    else await printDocument(process.stdout, format, result);
    return 0;
  } finally {
    runtime.dispose();
  }
}
