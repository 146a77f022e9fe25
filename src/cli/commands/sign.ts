import { sign } from '../../ops/sign.js';
import { parseOutputFormat, printDocument } from '../../output/printer.js';
import { formatReference, parseReference, withVersion } from '../../ref/reference.js';
import { parseAnnotationFlags } from '../../artifact/manifest.js';
import { createRuntime, type GlobalFlags } from '../options.js';
import { readKeyPassword } from './key-password.js';
import { reportCi } from '../ci-report.js';

export async function run(args: string[], flags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const ref = parseReference(args[0] as string);
  const format = parseOutputFormat(flags.output as string | undefined, 'table');
  const keyPath = flags.key as string;
  const password = await readKeyPassword(keyPath);
  const runtime = await createRuntime(globals);
  try {
    const result = await sign(ref, {
      keyPath,
      password,
      format: (flags.format as 'legacy' | 'bundle' | undefined) ?? 'legacy',
      annotations: parseAnnotationFlags((flags.annotations as string[] | undefined) ?? []),
    }, runtime.ctx);
    runtime.reporter.success(`signed ${result.reference} (${result.kind} at ${result.location})`);
    // The outputs name the artifact that was signed, as for every other command; the signature is in the summary.
    await reportCi('sign', {
      url: formatReference(withVersion(ref, { digest: result.digest })),
      digest: result.digest,
      reference: result.reference,
      signatures: `signed (${result.kind} at ${result.location})`,
    }, flags.dotenv as string | undefined);
    if (format !== 'table') await printDocument(process.stdout, format, result);
    return 0;
  } finally {
    runtime.dispose();
  }
}
