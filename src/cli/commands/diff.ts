import { usageError } from '../../errors.js';
import { diff, type DiffResult } from '../../ops/diff.js';
import { renderObjectChanges, renderPaths, renderStatusLines } from '../../diff/render.js';
import { parseOutputFormat, printDocument, printText } from '../../output/printer.js';
import { parseReference } from '../../ref/reference.js';
import { createRuntime, parseSize, splitList, type GlobalFlags } from '../options.js';
import { countOf } from '../../output/format.js';
import type { SideFlags } from '../creds-input.js';

interface DiffFlags extends SideFlags {
  path?: string;
  unified?: boolean;
  brief?: boolean;
  semantic?: boolean;
  output?: string;
  maxSize?: string;
  ignorePaths?: string[];
  addIgnorePaths?: string[];
  resolveSymlinks?: boolean;
}

/** Exit status like diff(1): 0 the same, 1 different; errors are thrown and mapped by the CLI (2 and up). */
export async function run(args: string[], rawFlags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const flags = rawFlags as unknown as DiffFlags;
  const ref = parseReference(args[0] as string);
  const other = args[1] === undefined ? undefined : parseReference(args[1]);
  if ((other === undefined) === (flags.path === undefined)) {
    throw usageError('DIFF_TARGET', other === undefined ? 'nothing to compare the artifact with' : 'give either a second artifact or --path, not both',
      'pass --path <dir> to compare with local files, or a second oci:// reference');
  }
  const format = parseOutputFormat(flags.output, 'table');
  if (format !== 'table' && flags.brief) throw usageError('FLAG_CONFLICT', '--brief and --output cannot be combined');
  if (flags.brief && flags.unified === true) throw usageError('FLAG_CONFLICT', '--brief and --unified cannot be combined', 'pick one: paths only, or patches');
  const maxSize = parseSize('--max-size', flags.maxSize);
  // A patch by default only for a person at a terminal; scripts get the stable one-line-per-file listing.
  const unified = flags.brief ? false : (flags.unified ?? (format === 'table' && process.stdout.isTTY === true));
  const runtime = await createRuntime(globals, { source: ref, destination: other, sides: flags });
  try {
    const result = await diff({
      ref,
      against: other !== undefined ? { ref: other } : { path: flags.path as string },
      ignorePaths: splitList(flags.ignorePaths),
      addIgnorePaths: splitList(flags.addIgnorePaths),
      resolveSymlinks: flags.resolveSymlinks,
      unified,
      semantic: flags.semantic,
      maxSize,
    }, runtime.ctx);
    runtime.reporter.finish();
    if (format !== 'table') {
      // The file-level result; patches only when asked for with --unified.
      await printDocument(process.stdout, format, flags.unified ? result : { ...result, patches: undefined });
    } else {
      printText(process.stdout, flags.brief ? renderBrief(result) : renderFull(result));
      summarise(result, (line) => (result.differs ? runtime.reporter.notice(line) : runtime.reporter.success(line)));
    }
    return result.differs ? 1 : 0;
  } finally {
    runtime.dispose();
  }
}

/** Changes that count: with --semantic, YAML files compared as objects speak through their objects. */
function countedChanges(result: DiffResult) {
  const semanticFiles = new Set(result.semantic?.files ?? []);
  return result.changes.filter((c) => !semanticFiles.has(c.path));
}

function renderBrief(result: DiffResult): string {
  if (result.semantic === undefined) return renderPaths(result.changes);
  const paths = new Set(countedChanges(result).map((c) => c.path));
  for (const object of result.semantic.objects) {
    if (object.oldFile !== undefined) paths.add(object.oldFile);
    if (object.newFile !== undefined) paths.add(object.newFile);
  }
  return [...paths].sort().map((p) => `${p}\n`).join('');
}

function renderFull(result: DiffResult): string {
  const semantic = result.semantic === undefined ? '' : renderObjectChanges(result.semantic.objects);
  const files = result.patches !== undefined ? result.patches.map((p) => p.patch).join('') : renderStatusLines(countedChanges(result));
  return semantic + files;
}

function summarise(result: DiffResult, say: (line: string) => void): void {
  const label = (info: DiffResult['old']) => info.path ?? info.reference ?? info.digest ?? '';
  if (!result.differs) {
    const cosmetic = result.changes.length === 0 ? '' : ` (${countOf(result.changes.length, 'YAML file differs', 'YAML files differ')} only in formatting, comments or key order)`;
    say(`no differences between ${label(result.old)} and ${label(result.new)}${cosmetic}`);
    return;
  }
  const { added, removed, modified, modeChanged } = result.summary;
  const parts = [`${added} added`, `${removed} removed`, `${modified} modified`, `${modeChanged} mode changed`];
  const objects = result.semantic === undefined ? '' : `; ${countOf(result.semantic.objects.length, 'object differs', 'objects differ')}`;
  say(`${label(result.old)} and ${label(result.new)} differ: ${parts.join(', ')}${objects}`);
}
