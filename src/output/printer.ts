import type { Writable } from 'node:stream';
import { usageError } from '../errors.js';
import { escapeControl, escapeRawInJson, safeText } from './escape.js';
import { displayWidth, truncateToWidth } from './format.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** `extra`: formats one command has besides these (e.g. diff's `markdown`). */
export function parseOutputFormat<Extra extends string = never>(value: string | undefined, fallback: OutputFormat = 'table', extra: readonly Extra[] = []): OutputFormat | Extra {
  if (value === undefined) return fallback;
  if (value === 'table' || value === 'json' || value === 'yaml') return value;
  const other = extra.find((format) => format === value);
  if (other !== undefined) return other;
  const formats = ['table', 'json', 'yaml', ...extra];
  throw usageError('OUTPUT_FORMAT_INVALID', `output format '${value}' is not supported`, `use ${formats.slice(0, -1).join(', ')} or ${formats.at(-1)}`);
}

/**
 * Machine output: one document to stdout, JSON with two-space indent or YAML. JSON escapes C0 controls itself; the
 * C1 controls and bidi marks it leaves raw are written as \u escapes (same value, and only strings can hold them).
 * YAML strings are never block scalars, whose lines (`  ::set-output …`) a CI runner would read as commands, and
 * an object met twice is written twice, not as an anchor and alias that readers of the output must resolve.
 */
export async function printDocument(stream: Writable, format: 'json' | 'yaml', value: unknown): Promise<void> {
  if (format === 'json') {
    stream.write(`${escapeRawInJson(JSON.stringify(value, null, 2))}\n`);
    return;
  }
  const { stringify } = await import('yaml');
  stream.write(stringify(value, { blockQuote: false, aliasDuplicateObjects: false }));
}

/** A document for a person (tables, patches, listings) to stdout, its text escaped as everything printed is. */
export function printText(stream: Writable, text: string): void {
  stream.write(safeText(text));
}

/**
 * A command's result in the format asked for: with `table`, the text made by `text` for a person (nothing when the
 * command shows its result on stderr only); with json or yaml, `document`.
 */
export async function printResult(stream: Writable, format: OutputFormat, document: unknown, text?: () => string): Promise<void> {
  if (format !== 'table') await printDocument(stream, format, document);
  else if (text !== undefined) printText(stream, text());
}

/** Fitting a table to a terminal: the column that gives way, cut with an ellipsis (the others are kept whole). */
export interface TableFit {
  /** Columns available; undefined (not a terminal, or no window size) leaves the table as wide as its content. */
  width: number | undefined;
  shrink: number;
}

const GAP = 2;
/** A shrinking column keeps at least this much, so it still says something; past that the table is wider. */
const MIN_SHRUNK = 8;

/**
 * An aligned text table; the header is upper case like Flux's. A cell is one line: its controls are escaped. With
 * a fit, a row that would wrap on the terminal has its `shrink` column cut instead.
 */
export function renderTable(headers: string[], rows: string[][], fit?: TableFit): string {
  const cells = rows.map((row) => row.map(escapeControl));
  // Folded, not spread: Math.max(...rows) overflows the call stack past ~120k rows (tags, files, annotations).
  const widths = headers.map((h, i) => cells.reduce((width, r) => Math.max(width, displayWidth(r[i] ?? '')), displayWidth(h)));
  if (fit?.width !== undefined) {
    const others = widths.reduce((sum, w, i) => (i === fit.shrink ? sum : sum + w), 0) + GAP * (widths.length - 1);
    // One column is left free: some terminals wrap as soon as the last column is written.
    const room = Math.max(fit.width - 1 - others, MIN_SHRUNK, displayWidth(headers[fit.shrink] ?? ''));
    if ((widths[fit.shrink] ?? 0) > room) {
      widths[fit.shrink] = room;
      for (const row of cells) row[fit.shrink] = truncateToWidth(row[fit.shrink] ?? '', room);
    }
  }
  const pad = (cell: string, width: number) => cell + ' '.repeat(Math.max(width - displayWidth(cell), 0));
  const line = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : pad(c, widths[i] as number))).join(' '.repeat(GAP)).trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

/** Aligned `label  value` lines; a value is one line: its controls are escaped. */
export function renderFields(rows: Array<[string, string | undefined]>, indent = ''): string {
  const present = rows.filter((r): r is [string, string] => r[1] !== undefined);
  const width = present.reduce((widest, [label]) => Math.max(widest, escapeControl(label).length), 0);
  return present.map(([label, value]) => `${indent}${escapeControl(label).padEnd(width)}  ${escapeControl(value)}`).join('\n') + '\n';
}
