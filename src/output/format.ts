/** Small, pure formatting helpers shared by tables, progress and summaries. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}

/** `sha256:0123456789ab…` — enough to recognise, short enough for a table. */
export function shortDigest(digest: string, hexChars = 12): string {
  const colon = digest.indexOf(':');
  if (colon < 0 || digest.length - colon - 1 <= hexChars) return digest;
  return `${digest.slice(0, colon + 1 + hexChars)}…`;
}
