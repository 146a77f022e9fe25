import { tag } from '../../ops/tag.js';
import { parseOutputFormat, printDocument } from '../../output/printer.js';
import { countOf } from '../../output/format.js';
import { shortDigest } from '../../ref/digest.js';
import { formatReference, parseReference, withVersion } from '../../ref/reference.js';
import { reportCi } from '../ci-report.js';
import { createRuntime, splitList, type GlobalFlags } from '../options.js';

interface TagFlags {
  tag?: string[];
  to?: string;
  output?: string;
  dotenv?: string;
}

export async function run(args: string[], rawFlags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const flags = rawFlags as unknown as TagFlags;
  const source = parseReference(args[0] as string);
  const to = flags.to === undefined ? undefined : parseReference(flags.to);
  const format = parseOutputFormat(flags.output, 'table');
  const runtime = await createRuntime(globals, { source, destination: to });
  try {
    const result = await tag({ source, to, tags: splitList(flags.tag) ?? [] }, runtime.ctx);
    const { reporter } = runtime;
    if (result.blobs !== undefined) {
      const { mounted, copied, skipped } = result.blobs;
      reporter.success(`content: ${countOf(mounted, 'blob')} mounted, ${copied} copied, ${skipped} already present`);
    }
    for (const tagged of result.tagged) reporter.success(`tagged ${formatReference(withVersion(to ?? source, { tag: tagged.tag }))} (${shortDigest(tagged.digest)})`);
    await reportCi('tag', {
      url: formatReference(withVersion(to ?? source, { digest: result.digest })),
      digest: result.digest,
      reference: result.tagged.map((t) => t.url).join(', '),
    }, flags.dotenv);
    if (format !== 'table') await printDocument(process.stdout, format, result.tagged);
    return 0;
  } finally {
    runtime.dispose();
  }
}
