import { usageError } from '../../errors.js';
import { parseSourceSpec, type PackInput } from '../../artifact/sources.js';

/**
 * Repeatable `-f SRC[:DEST]` (push, build, diff): one `-f` without DEST stays the path as given (also '-'), more are
 * the list of sources (artifact/sources.ts).
 */
export function sourcesOf(values: string[], cwd: string): PackInput {
  if (values.length === 1 && values[0] === '-') return '-';
  if (values.includes('-')) throw usageError('FLAG_CONFLICT', "'-f -' (stdin) cannot be combined with other sources", 'push stdin alone, or write it to a file first');
  const sources = values.map((value) => parseSourceSpec(value, cwd));
  return sources.length === 1 && sources[0]!.dest === '' ? sources[0]!.path : sources;
}
