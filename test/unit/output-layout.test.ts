import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { displayWidth, truncateToWidth } from '../../src/output/format.js';
import { LiveArea } from '../../src/output/live.js';
import { renderTable } from '../../src/output/printer.js';
import { rateOf, type Transfer } from '../../src/output/reporter.js';
import { detectTerminal, usableWidth } from '../../src/output/terminal.js';

const ESC = '\u001b';

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += chunk.toString(); done(); } });
  return { stream, text: () => text };
}

describe('usable width', () => {
  it('treats 0, NaN and a missing width as unknown', () => {
    expect(usableWidth({ columns: 0 })).toBeUndefined();
    expect(usableWidth({ columns: Number.NaN })).toBeUndefined();
    expect(usableWidth({})).toBeUndefined();
    expect(usableWidth({ columns: 120 })).toBe(120);
  });

  it('draws no spinner on a terminal of unknown width', () => {
    expect(detectTerminal({ isTTY: true, columns: 0 }, {})).toMatchObject({ interactive: false, colour: true });
    expect(detectTerminal({ isTTY: true, columns: 0 }, {}).width()).toBeUndefined();
  });
});

describe('truncateToWidth', () => {
  it('cuts with an ellipsis, counts wide characters as two columns, and leaves text alone at unknown width', () => {
    expect(truncateToWidth('abcdefgh', 5)).toBe('abcd…');
    expect(truncateToWidth('abc', 5)).toBe('abc');
    expect(truncateToWidth('漢字漢字', 5)).toBe('漢字…');
    expect(displayWidth('漢字…')).toBe(5);
    expect(truncateToWidth('x'.repeat(500), undefined)).toBe('x'.repeat(500));
  });
});

describe('LiveArea', () => {
  it('writes nothing while the width is unknown', () => {
    const out = sink();
    const area = new LiveArea(out.stream, () => undefined);
    area.show(() => ['packing', '  content [====] 50%']);
    area.writeAbove('a line\n');
    area.stop();
    expect(out.text()).toBe('a line\n');
  });

  it('cuts each line to the width less one, so it erases exactly the rows it drew', () => {
    const out = sink();
    const area = new LiveArea(out.stream, () => 20);
    area.show(() => ['x'.repeat(50), 'y'.repeat(50)]);
    area.stop();
    const [drawn, erase] = [out.text().slice(0, out.text().lastIndexOf(`${ESC}[1A`)), out.text().slice(out.text().lastIndexOf(`${ESC}[1A`))];
    for (const row of drawn.split('\n')) expect(displayWidth(row)).toBeLessThanOrEqual(19);
    expect(erase).toBe(`${ESC}[1A\r${ESC}[J`);
  });
});

describe('renderTable fitting a terminal', () => {
  const headers = ['ARTIFACT', 'REVISION', 'CREATED'];
  const rows = [['oci://h/r:v1', `main@sha1:${'a'.repeat(60)}`, '2026-01-01T00:00:00Z']];

  it('cuts the shrinking column with an ellipsis so no row is wider than the terminal less one column', () => {
    const table = renderTable(headers, rows, { width: 60, shrink: 1 });
    for (const line of table.trimEnd().split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(59);
    expect(table).toContain('main@sha1:aaa');
    expect(table).toContain('… ');
    expect(table).toContain('2026-01-01T00:00:00Z');
  });

  it('leaves the table whole at unknown width', () => {
    expect(renderTable(headers, rows, { width: undefined, shrink: 1 })).toBe(renderTable(headers, rows));
    expect(renderTable(headers, rows)).toContain('a'.repeat(60));
  });
});

describe('transfer rate', () => {
  const transfer = (samples: Array<[number, number]>): Transfer => ({
    progress: { direction: 'upload', label: 'content', bytes: samples.at(-1)![1] },
    samples: samples.map(([at, bytes]) => ({ at, bytes })),
  });

  it('takes a first burst as the baseline, never as a rate', () => {
    // 16 MiB handed over at once, then nothing more for 10 ms: no rate yet, and never 16 MiB / 10 ms.
    expect(rateOf(transfer([[0, 16 * 1024 * 1024]]), 10)).toBeUndefined();
    expect(rateOf(transfer([[0, 16 * 1024 * 1024]]), 2000)).toBeUndefined();
  });

  it('is the bytes moved since the first sample over the real time elapsed until now', () => {
    const mib = 1024 * 1024;
    expect(rateOf(transfer([[0, 16 * mib], [1000, 20 * mib], [2000, 24 * mib]]), 2000)).toBe(4 * mib);
    // A stall shows: the same bytes over a longer time.
    expect(rateOf(transfer([[0, 16 * mib], [2000, 24 * mib]]), 4000)).toBe(2 * mib);
  });
});
