import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseArtifactArguments } from '../../src/cli/command.js';
import { parseDuration } from '../../src/cli/duration.js';
import { parseSize, splitList } from '../../src/cli/flag-values.js';
import { detectTerminal } from '../../src/output/terminal.js';
import { printResult, renderFields, renderTable } from '../../src/output/printer.js';

describe('parseDuration', () => {
  it.each([['5m', 300_000], ['1h30m', 5_400_000], ['90s', 90_000], ['500ms', 500], ['2', 2000], ['1.5s', 1500]])('%s', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });
  it.each(['', 'abc', '5x', '0s', 'm5', '5m junk'])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(/invalid duration/);
  });
});

describe('flag parsing', () => {
  it('splits comma lists and repeats', () => {
    expect(splitList(['a,b', ' c ', ''])).toEqual(['a', 'b', 'c']);
    expect(splitList(undefined)).toBeUndefined();
  });
  it('parses sizes', () => {
    expect(parseSize('--max-size', '100Mi')).toBe(100 * 1024 * 1024);
    expect(parseSize('--max-size', '0')).toBe(0);
    expect(parseSize('--max-size', '2k')).toBe(2048);
    expect(() => parseSize('--max-size', 'lots')).toThrow(/--max-size must be a size/);
  });
});

describe('terminal detection', () => {
  it('turns colour and spinners off for pipes, CI and NO_COLOR', () => {
    expect(detectTerminal({ isTTY: true, columns: 80 }, {})).toMatchObject({ interactive: true, colour: true });
    expect(detectTerminal({ isTTY: false }, {})).toMatchObject({ interactive: false, colour: false });
    expect(detectTerminal({ isTTY: true, columns: 80 }, { CI: 'true' })).toMatchObject({ interactive: false, colour: false, ci: true });
    expect(detectTerminal({ isTTY: true, columns: 80 }, { NO_COLOR: '1' })).toMatchObject({ colour: false });
    expect(detectTerminal({ isTTY: false }, { FORCE_COLOR: '1' })).toMatchObject({ colour: true });
  });
});

describe('renderTable', () => {
  it('aligns columns', () => {
    expect(renderTable(['A', 'LONGER'], [['xyz', '1'], ['q', '22']])).toBe('A    LONGER\nxyz  1\nq    22\n');
  });

  it('lays out 200,000 rows (tags, files, annotations a registry chose), as rows and as fields', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [`t${i}`, 'x']);
    const table = renderTable(['TAG', 'X'], rows).split('\n');
    expect(table).toHaveLength(200_002);
    expect(table[200_000]).toBe('t199999  x');
    const fields = renderFields(rows as Array<[string, string]>).split('\n');
    expect(fields[0]).toBe('t0       x');
  });
});

describe('parseArtifactArguments (the preamble of the commands on artifacts)', () => {
  it('parses the reference, a second one where given, and the -o format with the command\'s own formats', async () => {
    const one = await parseArtifactArguments('oci://ghcr.io/org/app:v1', undefined);
    expect(one).toMatchObject({ ref: { kind: 'registry', registry: 'ghcr.io', repository: 'org/app', tag: 'v1' }, format: 'table' });
    expect(one.other).toBeUndefined();
    const two = await parseArtifactArguments('oci://ghcr.io/org/app:v1', 'markdown', { other: 'oci-layout://./store:v2', formats: ['markdown'] });
    expect(two).toMatchObject({ other: { kind: 'layout', tag: 'v2' }, format: 'markdown' });
  });

  it('refuses the reference first, then the second reference, then the format: usage errors before any request', async () => {
    const refused = (promise: Promise<unknown>) => promise.then(() => 'accepted', (err: { kind?: string; message?: string }) => `${err.kind}: ${err.message}`);
    expect(await refused(parseArtifactArguments('ghcr.io/org/app', 'bad', { other: 'also-bad' }))).toMatch(/^usage: invalid reference 'ghcr.io\/org\/app'/);
    expect(await refused(parseArtifactArguments('oci://ghcr.io/org/app:v1', 'bad', { other: 'also-bad' }))).toMatch(/^usage: invalid reference 'also-bad'/);
    expect(await refused(parseArtifactArguments('oci://ghcr.io/org/app:v1', 'markdown'))).toBe("usage: output format 'markdown' is not supported");
  });
});

describe('printResult', () => {
  const printed = async (format: 'table' | 'json' | 'yaml', text?: () => string) => {
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await printResult(stream, format, { digest: 'sha256:ab' }, text);
    return out;
  };
  it('prints the text for a table, the document for json and yaml, and nothing for a table without text', async () => {
    expect(await printed('table', () => 'oci://h/r@sha256:ab\n')).toBe('oci://h/r@sha256:ab\n');
    expect(await printed('table')).toBe('');
    expect(JSON.parse(await printed('json', () => 'unused'))).toEqual({ digest: 'sha256:ab' });
    expect(await printed('yaml')).toBe('digest: sha256:ab\n');
  });
});
