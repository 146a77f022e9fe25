import type { Writable } from 'node:stream';
import { usageError } from '../errors.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function parseOutputFormat(value: string | undefined, fallback: OutputFormat = 'table'): OutputFormat {
  if (value === undefined) return fallback;
  if (value === 'table' || value === 'json' || value === 'yaml') return value;
  throw usageError('OUTPUT_FORMAT_INVALID', `output format '${value}' is not supported`, 'use table, json or yaml');
}

/** Machine output: one document to stdout, JSON with two-space indent or YAML. */
export async function printDocument(stream: Writable, format: 'json' | 'yaml', value: unknown): Promise<void> {
  if (format === 'json') {
    stream.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  const { stringify } = await import('yaml');
  stream.write(stringify(value));
}

/** An aligned text table; the header is upper case like Flux's. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
