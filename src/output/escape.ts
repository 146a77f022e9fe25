/**
 * Text from an artifact or a registry (annotations, file names, tags, error bodies) is printed through here, so it
 * can neither drive the terminal (ESC sequences, CR redraws, bidi reordering) nor fake output lines (LF) nor send a
 * CI runner a command (a line starting with `::` or `##[`). JSON output needs none of this: JSON escapes it.
 */

/** C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), bidi embeddings/overrides/isolates, line separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

function escapeChar(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * GitHub Actions (and the runners that copy its syntax) read a line as a command when, after leading blanks, it
 * starts with `::` or `##[` (`##vso[` on Azure Pipelines); such a line's first character is printed escaped.
 */
const RUNNER_COMMAND = /^(\s*)([:#])(?=:|#\[|#vso\[)/;

const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON text with the controls JSON.stringify leaves raw written as `\uXXXX` (the parsed value is unchanged). */
export function escapeRawInJson(json: string): string {
  return json.replace(RAW_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One line of text with every control character shown as an escape (`\e`, `\n`, `\x07`, `\u202e`). */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, escapeChar);
}

/** One printed line: controls escaped, and never read as a CI runner command. */
export function safeLine(text: string): string {
  return escapeControl(text).replace(RUNNER_COMMAND, (_all, blank: string, first: string) => `${blank}${escapeChar(first)}`);
}

/** A multi-line document for a person: its own line breaks kept, everything else as in safeLine. */
export function safeText(text: string): string {
  return text.split('\n').map(safeLine).join('\n');
}
