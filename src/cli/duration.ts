import { usageError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse a Go-style duration (`5m`, `1h30m`, `90s`, `500ms`; a bare number is seconds) into milliseconds. */
export function parseDuration(input: string): number {
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(part)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * (UNITS[match[2] as string] as number);
    consumed += match[0].length;
  }
  if (consumed !== text.length || consumed === 0 || total <= 0) {
    throw usageError('DURATION_INVALID', `invalid duration '${input}'`, 'use a value such as 30s, 5m or 1h30m');
  }
  return Math.round(total);
}
