import { usageError } from '../errors.js';

/**
 * Flag defaults and the parsers of flag values. Small on purpose: every command module imports it at start-up, so
 * it must not pull in the reporter, the registry or the signing code (those load only when a command runs).
 */
export const DEFAULT_TIMEOUT = '5m';

/** Option parser of a repeatable flag: each use adds one value. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Split Flux-style list flags: repeatable, and each value may be a comma-separated list. */
export function splitList(values: string[] | string | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const list = Array.isArray(values) ? values : [values];
  return list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

export function parseInteger(name: string, value: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw usageError('FLAG_INVALID', `${name} must be a whole number ${range}, got '${value}'`);
  }
  return Number(value);
}

/** Parse a size such as `100Mi`, `1G`, `512k` or plain bytes. */
export function parseSize(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)\s*(k|ki|m|mi|g|gi|kb|mb|gb)?b?$/i.exec(value.trim());
  if (!match) throw usageError('FLAG_INVALID', `${name} must be a size such as 100Mi, 1Gi or 0 for none, got '${value}'`);
  const unit = (match[2] ?? '').toLowerCase();
  const factor = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1;
  return Number(match[1]) * factor;
}
