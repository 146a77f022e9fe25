import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Reporter } from '../../src/output/reporter.js';
import type { TerminalInfo } from '../../src/output/terminal.js';

/** Colour follows detectTerminal's decision for stderr alone (node's styleText; chalk looked at stdout). */
async function lines(colour: boolean): Promise<string> {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString()));
  const terminal: TerminalInfo = { interactive: false, colour, ci: false, githubActions: false, width: () => undefined };
  const reporter = new Reporter({ stream, terminal });
  await reporter.init();
  reporter.success('pushed');
  reporter.error('refused \x1b[31m');
  reporter.notice('note');
  return out;
}

describe('reporter colour', () => {
  it('colours the symbols, not the message, when the terminal takes colour (even with stdout redirected)', async () => {
    expect(await lines(true)).toBe('\x1b[32m✔\x1b[39m pushed\n\x1b[31m✗\x1b[39m refused \\e[31m\n\x1b[33m!\x1b[39m note\n');
  });

  it('writes no escape sequence of its own without colour', async () => {
    expect(await lines(false)).toBe('✔ pushed\n✗ refused \\e[31m\n! note\n');
  });
});
