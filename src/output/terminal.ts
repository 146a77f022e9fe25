/** What kind of place we print to: decides colour, spinners and progress bars. */
export interface TerminalInfo {
  /** stderr is an interactive terminal and no CI is detected: spinners and bars allowed. */
  interactive: boolean;
  colour: boolean;
  ci: boolean;
  githubActions: boolean;
}

type Env = Record<string, string | undefined>;

export function detectTerminal(stream: { isTTY?: boolean }, env: Env = process.env): TerminalInfo {
  const ci = Boolean(env.CI && env.CI !== 'false') || Boolean(env.GITHUB_ACTIONS || env.GITLAB_CI || env.BUILDKITE || env.CIRCLECI);
  const tty = Boolean(stream.isTTY) && env.TERM !== 'dumb';
  let colour = tty && !ci;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') colour = false;
  if (env.FORCE_COLOR !== undefined) colour = env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return { interactive: tty && !ci, colour, ci, githubActions: env.GITHUB_ACTIONS === 'true' };
}
