import { pull } from '../../ops/pull.js';
import { parseOutputFormat, printDocument } from '../../output/printer.js';
import { formatBytes } from '../../bytes.js';
import { countOf } from '../../output/format.js';
import { parseReference } from '../../ref/reference.js';
import { createRuntime, parseInteger, parseSize, type GlobalFlags } from '../options.js';
import { verifyPolicyFromFlags } from './verify-flags.js';
import { reportCi } from '../ci-report.js';

interface PullFlags {
  output: string;
  layerMediaType?: string;
  layerIndex?: string;
  maxSize?: string;
  format?: string;
  verify?: boolean;
  dotenv?: string;
}

export async function run(args: string[], rawFlags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const flags = rawFlags as unknown as PullFlags;
  const ref = parseReference(args[0] as string);
  const format = parseOutputFormat(flags.format, 'table');
  const layerIndex = parseInteger('--layer-index', flags.layerIndex);
  const maxSize = parseSize('--max-size', flags.maxSize);
  // Loaded only with --verify: signing pulls in sigstore.
  const requireSignature = flags.verify
    ? await import('../../ops/verify.js').then((m) => m.signatureRequirement(verifyPolicyFromFlags(rawFlags)))
    : undefined;
  const runtime = await createRuntime(globals);
  try {
    const result = await pull({
      ref,
      output: flags.output,
      layerMediaType: flags.layerMediaType,
      layerIndex,
      maxSize,
      beforeExtract: requireSignature === undefined ? undefined : async ({ descriptor, repo }) => {
        runtime.ctx.onStep?.('verifying signatures');
        await requireSignature(repo, descriptor, runtime.ctx.signal);
      },
    }, runtime.ctx);
    const { reporter } = runtime;
    if (result.source) reporter.success(`source ${result.source}`);
    if (result.revision) reporter.success(`revision ${result.revision}`);
    reporter.success(`digest ${result.digest}`);
    reporter.success(result.mode === 'extracted'
      ? `extracted ${countOf(result.files, 'file')} (${formatBytes(result.bytes)}) to ${flags.output}`
      : `layer written to ${result.output}`);
    for (const skipped of result.skipped) reporter.notice(`skipped ${skipped}`);
    await reportCi('pull', {
      url: result.url,
      digest: result.digest,
      source: result.source,
      revision: result.revision,
      signatures: flags.verify ? 'verified' : undefined,
    }, flags.dotenv);
    if (format !== 'table') await printDocument(process.stdout, format, result);
    return 0;
  } finally {
    runtime.dispose();
  }
}
