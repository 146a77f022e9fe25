/**
 * How deeply a JSON text nests arrays and objects, found by one linear scan without parsing. JSON.parse itself
 * copes with any depth, but everything that walks the parsed value afterwards (JSON.stringify, the YAML printer)
 * recurses and overflows the call stack a few thousand levels down: documents from a registry or an artifact are
 * checked with this before they are parsed.
 */

/** Deeper than any manifest or listing needs (those nest five or six levels), far below what overflows the stack. */
export const MAX_JSON_NESTING = 64;

/** True when `text` nests arrays and objects more than `limit` levels deep; stops scanning as soon as it does. */
export function jsonNestsDeeperThan(text: string, limit = MAX_JSON_NESTING): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
