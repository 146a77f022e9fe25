import type { Writable } from 'node:stream';
import { usageError } from '../errors.js';
import { escapeControl, escapeRawInJson, safeText } from './escape.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function parseOutputFormat(value: string | undefined, fallback: OutputFormat = 'table'): OutputFormat {
  if (value === undefined) return fallback;
  if (value === 'table' || value === 'json' || value === 'yaml') return value;
  throw usageError('OUTPUT_FORMAT_INVALID', `output format '${value}' is not supported`, 'use table, json or yaml');
}

/**
 * Machine output: one document to stdout, JSON with two-space indent or YAML. JSON escapes C0 controls itself; the
 * C1 controls and bidi marks it leaves raw are written as \u escapes (same value, and only strings can hold them).
 * YAML strings are never block scalars, whose lines (`  ::set-output …`) a CI runner would read as commands.
 */
export async function printDocument(stream: Writable, format: 'json' | 'yaml', value: unknown): Promise<void> {
  if (format === 'json') {
    stream.write(`${escapeRawInJson(JSON.stringify(value, null, 2))}\n`);
    return;
  }
  const { stringify } = await import('yaml');
  stream.write(stringify(value, { blockQuote: false }));
}

/** A document for a person (tables, patches, listings) to stdout, its text escaped as everything printed is. */
export function printText(stream: Writable, text: string): void {
  stream.write(safeText(text));
}

/** An aligned text table; the header is upper case like Flux's. A cell is one line: its controls are escaped. */
export function renderTable(headers: string[], rows: string[][]): string {
  const cells = rows.map((row) => row.map(escapeControl));
  // Folded, not spread: Math.max(...rows) overflows the call stack past ~120k rows (tags, files, annotations).
  const widths = headers.map((h, i) => cells.reduce((width, r) => Math.max(width, (r[i] ?? '').length), h.length));
  const line = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

/** Aligned `label  value` lines; a value is one line: its controls are escaped. */
export function renderFields(rows: Array<[string, string | undefined]>, indent = ''): string {
  const present = rows.filter((r): r is [string, string] => r[1] !== undefined);
  const width = present.reduce((widest, [label]) => Math.max(widest, escapeControl(label).length), 0);
  return present.map(([label, value]) => `${indent}${escapeControl(label).padEnd(width)}  ${escapeControl(value)}`).join('\n') + '\n';
}
