import { parseAnnotationFlags } from '../../artifact/manifest.js';
import { push } from '../../ops/push.js';
import { parseOutputFormat, printDocument, printText } from '../../output/printer.js';
import { usageError } from '../../errors.js';
import { parseReference, withVersion } from '../../ref/reference.js';
import { readKeyPassword } from './key-password.js';
import { createRuntime, parseInteger, splitList, type GlobalFlags } from '../options.js';
import { reportCi } from '../ci-report.js';

interface PushFlags {
  path: string;
  source?: string;
  revision?: string;
  annotations?: string[];
  reproducible?: boolean;
  output?: string;
  compressionLevel?: string;
  ignorePaths?: string[];
  addIgnorePaths?: string[];
  resolveSymlinks?: boolean;
  sign?: boolean;
  key?: string;
  dotenv?: string;
}

export async function run(args: string[], rawFlags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const flags = rawFlags as unknown as PushFlags;
  const ref = parseReference(args[0] as string);
  const format = parseOutputFormat(flags.output, 'table');
  // Flux takes `-a a=1,b=2` as two annotations; a comma followed by something other than `key=` stays in the value.
  const annotations = parseAnnotationFlags((flags.annotations ?? []).flatMap((v) => v.split(/,(?=[\w./-]+=)/)));
  const compressionLevel = parseInteger('--compression-level', flags.compressionLevel, 0, 9);
  if (flags.sign && !flags.key) throw usageError('FLAG_INVALID', '--sign needs --key <private key>');
  if (flags.path === '-' && globals.passwordStdin) {
    throw usageError('FLAG_INVALID', "stdin cannot carry both the manifests (-f -) and the password (--password-stdin)",
      'use oci-artifact login, or OCI_ARTIFACT_USERNAME/OCI_ARTIFACT_PASSWORD');
  }
  const password = flags.sign ? await readKeyPassword(flags.key as string) : undefined;
  const runtime = await createRuntime(globals);
  try {
    const result = await push({
      ref,
      path: flags.path,
      source: flags.source,
      revision: flags.revision,
      annotations,
      reproducible: flags.reproducible,
      ignorePaths: splitList(flags.ignorePaths),
      addIgnorePaths: splitList(flags.addIgnorePaths),
      resolveSymlinks: flags.resolveSymlinks,
      compressionLevel,
    }, runtime.ctx);
    const uploaded = Object.values(result.blobs).filter((b) => b === 'uploaded').length;
    runtime.reporter.success(`pushed ${result.reference}${uploaded === 0 ? ' (content unchanged, nothing uploaded)' : ''}`);
    let signatures: string | undefined;
    if (flags.sign) {
      const { sign } = await import('../../ops/sign.js');
      const signed = await sign(withVersion(ref, { digest: result.digest }), { keyPath: flags.key as string, password }, runtime.ctx);
      runtime.reporter.success(`signed ${signed.reference} (${signed.kind})`);
      signatures = `signed (${signed.kind})`;
    }
    await reportCi('push', { url: result.url, digest: result.digest, reference: result.reference, source: result.source, revision: result.revision, signatures }, flags.dotenv);
    if (format === 'table') printText(process.stdout, `${result.url}\n`);
    else await printDocument(process.stdout, format, { url: result.url, repository: result.repository, tag: result.tag, digest: result.digest });
    return 0;
  } finally {
    runtime.dispose();
  }
}
