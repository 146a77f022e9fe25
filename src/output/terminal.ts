/** What kind of place we print to: decides colour, spinners, progress bars and table widths. */
export interface TerminalInfo {
  /** stderr is an interactive terminal of known width and no CI is detected: spinners and bars allowed. */
  interactive: boolean;
  colour: boolean;
  ci: boolean;
  githubActions: boolean;
  /** The terminal's columns now, or undefined when unknown (see usableWidth). */
  width(): number | undefined;
}

type Env = Record<string, string | undefined>;

/**
 * The one answer to "how wide can a line be": a terminal's columns, or undefined when unknown. A pty without a
 * window size (`script`, `docker run -t` from a non-terminal, some CI runners) reports 0 columns; laying out for 0
 * columns divides by zero, so 0, NaN and a missing value all mean "unknown": no truncation, no redrawing.
 */
export function usableWidth(stream: { columns?: number }): number | undefined {
  const columns = stream.columns;
  return typeof columns === 'number' && Number.isInteger(columns) && columns > 0 ? columns : undefined;
}

export function detectTerminal(stream: { isTTY?: boolean; columns?: number }, env: Env = process.env): TerminalInfo {
  const ci = Boolean(env.CI && env.CI !== 'false') || Boolean(env.GITHUB_ACTIONS || env.GITLAB_CI || env.BUILDKITE || env.CIRCLECI);
  const tty = Boolean(stream.isTTY) && env.TERM !== 'dumb';
  let colour = tty && !ci;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') colour = false;
  if (env.FORCE_COLOR !== undefined) colour = env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const width = () => (tty ? usableWidth(stream) : undefined);
  // A spinner redraws lines it has counted; without a width it cannot count them, so plain lines instead.
  return { interactive: tty && !ci && width() !== undefined, colour, ci, githubActions: env.GITHUB_ACTIONS === 'true', width };
}
