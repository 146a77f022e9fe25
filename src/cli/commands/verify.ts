import { verify } from '../../ops/verify.js';
import { parseOutputFormat, printDocument } from '../../output/printer.js';
import { formatReference, parseReference, withVersion } from '../../ref/reference.js';
import { reportCi } from '../ci-report.js';
import { createRuntime, type GlobalFlags } from '../options.js';
import { verifyPolicyFromFlags } from './verify-flags.js';
import { countOf } from '../../output/format.js';

export async function run(args: string[], flags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const ref = parseReference(args[0] as string);
  const format = parseOutputFormat(flags.output as string | undefined, 'table');
  const policy = verifyPolicyFromFlags(flags);
  const runtime = await createRuntime(globals);
  try {
    const result = await verify(ref, policy, runtime.ctx);
    const { reporter } = runtime;
    reporter.finish();
    if (format !== 'table') {
      await printDocument(process.stdout, format, result);
    } else {
      // One ✗ line per failure, as for every other error: the rejected signatures are details of the summary.
      for (const s of result.signatures) {
        const line = `${s.kind} ${s.source}${s.signer ? ` signer=${s.signer}` : ''}: ${s.reason}`;
        if (s.verified) reporter.success(line);
        else reporter.notice(line);
      }
    }
    const verifiedCount = result.signatures.filter((s) => s.verified).length;
    const summary = result.signatures.length === 0
      ? `no signatures found for ${result.reference}`
      : `${verifiedCount} of ${countOf(result.signatures.length, 'signature')} verified for ${result.reference}`;
    if (result.verified) reporter.success(summary);
    else reporter.error(`verification failed: ${summary}`);
    await reportCi('verify', {
      url: formatReference(withVersion(ref, { digest: result.digest })),
      digest: result.digest,
      reference: result.reference,
      signatures: result.verified ? `verified (${verifiedCount})` : 'FAILED',
    }, flags.dotenv as string | undefined);
    return result.verified ? 0 : 1;
  } finally {
    runtime.dispose();
  }
}
