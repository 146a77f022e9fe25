import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { escapeControl, safeLine, safeText } from '../../src/output/escape.js';
import { printDocument, renderFields, renderTable } from '../../src/output/printer.js';

async function printed(format: 'json' | 'yaml', value: unknown): Promise<string> {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += chunk.toString(); done(); } });
  await printDocument(stream, format, value);
  return text;
}

describe('escaping printed text', () => {
  it('shows every control character as an escape, on one line', () => {
    expect(escapeControl('a\u001b[2Jb\r\n\t\u0007\u009b1m\u202e')).toBe('a\\e[2Jb\\r\\n\\t\\x07\\x9b1m\\u202e');
    expect(escapeControl('plain ünïcode 漢字 \\ ok')).toBe('plain ünïcode 漢字 \\ ok');
  });

  it('never lets a line start a CI runner command', () => {
    expect(safeLine('::set-output name=a::b')).toBe('\\x3a:set-output name=a::b');
    expect(safeLine('  ##[error]x')).toBe('  \\x23#[error]x');
    expect(safeLine('##vso[task.setvariable]x')).toBe('\\x23#vso[task.setvariable]x');
    expect(safeLine('a ::b')).toBe('a ::b');
    expect(safeText('one\n::two\n  ::three\n')).toBe('one\n\\x3a:two\n  \\x3a:three\n');
  });

  it('keeps table rows and fields on one line each', () => {
    expect(renderTable(['A', 'B'], [['x\ny', 'z']])).toBe('A     B\nx\\ny  z\n');
    expect(renderFields([['Note', 'a\nb']])).toBe('Note  a\\nb\n');
  });

  it('JSON and YAML documents keep their values but carry no raw controls or block scalars', async () => {
    const value = { a: '\u009b31m\u202e', b: 'x\n::set-output name=a::b\n' };
    const json = await printed('json', value);
    expect(json).not.toMatch(/[\u009b\u202e]/);
    expect(JSON.parse(json)).toEqual(value);
    const yaml = await printed('yaml', value);
    expect(yaml.split('\n').some((line) => /^\s*::/.test(line))).toBe(false);
    expect((await import('yaml')).parse(yaml)).toEqual(value);
  });
});
