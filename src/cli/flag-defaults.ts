/**
 * Flag defaults and parsers that the command table needs. Kept apart from options.ts so that building the
 * program for `--help` does not load the reporter and terminal modules (a few ms of every start-up).
 */
export const DEFAULT_TIMEOUT = '5m';

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
