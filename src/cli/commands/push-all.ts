import { OciError, EXIT_CODES } from '../../errors.js';
import { reportCiAll } from '../ci-report.js';
import { withRuntime } from '../command.js';
import type { RuntimeFlags } from '../runtime.js';

/** The flags of `push --all` (a part of the push command, push.ts): the artifacts themselves come from the file. */
export interface PushAllFlags {
  config: string;
  concurrency: number;
  ifChanged?: boolean;
  source?: string;
  revision?: string;
  reproducible?: boolean;
  compressionLevel?: number;
  resolveSymlinks?: boolean;
  output?: string;
  dotenv?: string;
}

/**
 * `push --all`: one table (or `-o json|yaml` list) of every artifact's outcome. Any failure fails the run, once every
 * artifact finished: each failed one is named with its error, and the exit status is that of the first failed
 * artifact in file order.
 */
export async function pushAllCommand(flags: PushAllFlags, globals: RuntimeFlags): Promise<number> {
  const { parseOutputFormat, printDocument, printText, renderTable } = await import('../../output/printer.js');
  const { pushAll, readPushAllFile } = await import('../../ops/push-all.js');
  const { redactSecrets } = await import('../../secrets.js');
  const format = parseOutputFormat(flags.output, 'table');
  const file = await readPushAllFile(flags.config, {});
  // Passwords of encrypted signing keys are asked for once each, before anything is pushed.
  const keyPasswords = new Map<string, string | undefined>();
  const { readKeyPassword } = await import('../key-password.js');
  for (const artifact of file.artifacts) {
    if (artifact.sign !== undefined && !keyPasswords.has(artifact.sign.key)) keyPasswords.set(artifact.sign.key, await readKeyPassword(artifact.sign.key));
  }
  return withRuntime(globals, async ({ ctx, reporter }) => {
    const result = await pushAll({
      file,
      ifChanged: flags.ifChanged !== false,
      concurrency: flags.concurrency,
      source: flags.source,
      revision: flags.revision,
      reproducible: flags.reproducible,
      compressionLevel: flags.compressionLevel,
      resolveSymlinks: flags.resolveSymlinks,
      keyPasswords,
    }, ctx);
    const counts = (status: string) => result.artifacts.filter((a) => a.status === status).length;
    reporter.success(`${counts('pushed')} pushed, ${counts('unchanged')} unchanged, ${counts('failed')} failed (${file.path})`);
    const message = (err: unknown) => redactSecrets(err instanceof Error ? err.message : String(err));
    for (const failed of result.failed) reporter.error(`${failed.name}: ${message(failed.error)}`);
    await reportCiAll(result.artifacts.map(({ name, reference, status, digest, url }) => ({ name, reference, status, digest, url })), flags.dotenv);
    if (format === 'table') {
      const rows = result.artifacts.map((a) => [a.name, a.status, a.reference, a.digest ?? '', a.tags.join(',')]);
      printText(process.stdout, renderTable(['NAME', 'STATUS', 'REFERENCE', 'DIGEST', 'TAGS'], rows));
    } else {
      await printDocument(process.stdout, format, result.artifacts.map(({ error, ...artifact }) => (
        error === undefined ? artifact : { ...artifact, error: message(error) })));
    }
    const first = result.failed[0];
    if (first === undefined) return 0;
    const kind = first.error instanceof OciError ? first.error.kind : undefined;
    throw new OciError('PUSH_ALL_FAILED', `${result.failed.length} of ${result.artifacts.length} artifacts failed: ${result.failed.map((a) => a.name).join(', ')}`, {
      kind: kind ?? 'registry',
      hint: `the others were pushed; exit status ${kind === undefined ? EXIT_CODES.registry : EXIT_CODES[kind]} is that of '${first.name}'`,
    });
  });
}
