import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/** The shape of a JSON value: object keys recursively, arrays by their first element, leaves by type. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shape(value[0])];
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, shape((value as Record<string, unknown>)[k])]));
  }
  return value === null ? 'null' : typeof value;
}

function sections(markdown: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const match of markdown.matchAll(/^## ([\w-]+)\n[\s\S]*?```json\n([\s\S]*?)\n```/gm)) {
    out[match[1] as string] = shape(JSON.parse(match[2] as string));
  }
  return out;
}

describe('docs/output.md', () => {
  it('documents the JSON shapes the commands print today', () => {
    const documented = sections(readFileSync(join(ROOT, 'docs', 'output.md'), 'utf8'));
    const actual = sections(execFileSync(process.execPath, [join(ROOT, 'scripts', 'output-doc.mjs'), '--check'], { encoding: 'utf8' }));
    expect(Object.keys(documented).sort()).toEqual(['copy', 'copy-releases', 'diff', 'inspect', 'list', 'pull', 'push', 'sign', 'tag', 'verify']);
    expect(actual).toEqual(documented);
  }, 120_000);
});
