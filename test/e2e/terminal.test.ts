import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cleanEnv, runCli } from '../helpers/cli.js';
import { resolveTag, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/**
 * What a person sees: the CLI runs in a real terminal (tmux) and everything the terminal received is recorded
 * with pipe-pane; the same command in a pipe must print no bar and no escape codes.
 */
const work = useWorkDir('oci-artifact-tty-');
const registry = useRegistry();
// A private tmux server with one idle session kept alive, so sessions come and go without restarting it.
const SOCKET = `oci-artifact-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args]);
const ESC = String.fromCharCode(27);
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`);
const ANY_ESCAPE = new RegExp(`${ESC}\\[`);

beforeAll(async () => {
  if (!existsSync('/usr/bin/tmux')) throw new Error("the terminal tests need tmux: 'apt-get install -y tmux'");
  tmux('new-session', '-d', '-s', 'keeper', 'sleep 600');
  await mkdir(join(work.path, 'big'));
  // Incompressible and over the 32 MiB in-memory limit, so the upload streams for long enough to draw a bar.
  await writeFile(join(work.path, 'big', 'blob.bin'), randomBytes(40 * 1024 * 1024));
  // A tree that takes a while to upload even on a fast machine, to be interrupted halfway.
  await mkdir(join(work.path, 'small'));
  await writeFile(join(work.path, 'small', 'blob.bin'), randomBytes(4 * 1024 * 1024));
  await mkdir(join(work.path, 'large'));
  for (let i = 0; i < 16; i++) await writeFile(join(work.path, 'large', `part-${i}.bin`), randomBytes(10 * 1024 * 1024));
});
afterAll(async () => {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
});

interface TerminalRun {
  env?: Record<string, string>;
  /** Keys typed once `prompt` is on the screen (tmux key names, e.g. 'C-c'). */
  answer?: { prompt: string; keys: string[] };
  /** Expected exit status of the command (default 0). */
  exit?: number;
}

interface TerminalResult {
  /** Every byte the terminal received. */
  screen: string;
  /** Seconds from typing the answer keys to the command's end (undefined without an answer). */
  secondsAfterAnswer?: number;
}

/** Run a shell command line in a fresh tmux terminal; returns all bytes the terminal received. */
async function inTerminal(commandLine: string, run: TerminalRun = {}): Promise<TerminalResult> {
  const log = join(work.path, `tty-${Math.random().toString(16).slice(2)}.log`);
  const done = `${log}.done`;
  const session = `run-${Math.random().toString(16).slice(2, 10)}`;
  const envArgs = Object.entries({ TERM: 'xterm-256color', ...run.env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', ...envArgs, 'bash', '--norc', '--noprofile');
  tmux('pipe-pane', '-t', session, '-o', `cat >> ${log}`);
  tmux('send-keys', '-t', session, `unset CI GITHUB_ACTIONS GITLAB_CI COSIGN_PASSWORD; ${commandLine}; echo EXIT=$? > ${done}`, 'Enter');
  const deadline = Date.now() + 60_000;
  let answered = run.answer === undefined;
  let answeredAt: number | undefined;
  while (!existsSync(done) && Date.now() < deadline) {
    if (!answered && existsSync(log) && (await readFile(log, 'utf8')).includes(run.answer!.prompt)) {
      tmux('send-keys', '-t', session, ...run.answer!.keys);
      answered = true;
      answeredAt = Date.now();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const endedAt = Date.now();
  await new Promise((r) => setTimeout(r, 300));
  tmux('kill-session', '-t', session);
  expect(answered, `the prompt '${run.answer?.prompt}' appeared`).toBe(true);
  expect((await readFile(done, 'utf8')).trim()).toBe(`EXIT=${run.exit ?? 0}`);
  return { screen: await readFile(log, 'utf8'), secondsAfterAnswer: answeredAt === undefined ? undefined : (endedAt - answeredAt) / 1000 };
}

const push = (store: string) =>
  `node ${BIN} push oci-layout://${store}:v1 -f ${join(work.path, 'big')} --source https://example.invalid/r --revision main@sha1:1`;

describe('terminal output', () => {
  // A rate shows only once a second of real time has passed (unit: output-layout 'transfer rate'); this push to a
  // layout may end sooner on a quiet machine, so the bar is checked for its bytes, and the registry push below for
  // its rate.
  it('draws a progress bar with bytes on a terminal, in colour', async () => {
    const { screen } = await inTerminal(push(join(work.path, 'store-tty')));
    expect(screen).toMatch(/packing \[[=> ]+\]\s+\d+% .*MiB/);
    expect(screen).toMatch(SGR);
    expect(screen.replace(new RegExp(SGR.source, 'g'), '')).toContain('✔ pushed');
  });

  it('shows packing out of the total (files and bytes), then the upload with an honest rate', async () => {
    const { screen } = await inTerminal(
      `node ${BIN} push oci://${registry.host}/tty/progress:v1 -f ${join(work.path, 'big')} --source https://example.invalid/r --revision main@sha1:1`,
    );
    const plain = screen.replace(new RegExp(SGR.source, 'g'), '');
    // The walk knows the total before a byte is packed: a bar, a percentage, files and bytes out of 40 MiB.
    expect(plain).toMatch(/packing \[[=> ]{24}\]\s+\d+% [01]\/1 files [\d.]+ (B|KiB|MiB)\/40 MiB/);
    expect(plain).toMatch(/content [\d.]+ MiB/);
    // Rates are measured over real time: the 16 MiB handed to the uploader at once is no 16 GiB/s.
    expect(plain).not.toMatch(/GiB\/s/);
    for (const [, rate] of plain.matchAll(/ ([\d.]+) MiB\/s/g)) expect(Number(rate)).toBeLessThan(2000);
    expect(plain).toContain('✔ pushed');
  });

  it('uses no colour with NO_COLOR on a terminal', async () => {
    const { screen } = await inTerminal(push(join(work.path, 'store-nocolor')), { env: { NO_COLOR: '1' } });
    expect(screen).toContain('pushed');
    expect(screen).not.toMatch(SGR);
  });

  it('ends with exit 130 when Ctrl-C is typed at a password prompt (raw mode gets no SIGINT)', async () => {
    const key = join(ROOT, 'fixtures', 'signing', 'cosign-encrypted-keys', 'sigstore-labeled.key');
    const { screen } = await inTerminal(`node ${BIN} sign oci-layout://${join(work.path, 'unsigned')}:v1 --key ${key}`, {
      answer: { prompt: 'Enter password for', keys: ['s', 'e', 'C-c'] },
      exit: 130,
    });
    expect(screen).toContain('interrupted by SIGINT');
  });

  it('stops a registry push at Ctrl-C typed while the progress shows: exit 130 within seconds, no tag', async () => {
    const target = `oci://${registry.host}/tty/interrupted:v1`;
    const { screen, secondsAfterAnswer } = await inTerminal(
      `node ${BIN} push ${target} -f ${join(work.path, 'large')} --source https://example.invalid/r --revision main@sha1:1`,
      // The bar shows once bytes flow to the registry: the keypress lands mid-upload.
      { answer: { prompt: 'content ', keys: ['C-c'] }, exit: 130 },
    );
    expect(screen).toContain('interrupted by SIGINT');
    expect(screen).not.toContain('pushed');
    // The harness polls every 0.1 s for the end.
    expect(secondsAfterAnswer).toBeLessThan(3);
    expect(await resolveTag(target)).toBeUndefined();
  });

  it('ends in a pty with no window size (0 columns, as script and docker run -t give): exit 0, a few lines', async () => {
    // The inner `timeout` bounds the CLI itself: a redraw loop would keep it alive after script is gone.
    const commandLine = `stty cols 0 rows 0; timeout -s KILL 40 node ${BIN} push oci://${registry.host}/tty/no-width:v1 ` +
      `-f ${join(work.path, 'small')} --source https://example.invalid/r --revision main@sha1:1`;
    const started = Date.now();
    const { code, bytes, text } = await new Promise<{ code: number | null; bytes: number; text: string }>((resolve, reject) => {
      const child = spawn('script', ['-qec', commandLine, '/dev/null'], { env: cleanEnv({ TERM: 'xterm-256color' }), stdio: ['ignore', 'pipe', 'pipe'] });
      let bytes = 0;
      let text = '';
      const keep = (d: Buffer) => {
        bytes += d.length;
        if (text.length < 100_000) text += d.toString();
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, bytes, text }));
    });
    expect(code, text.slice(0, 300)).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(bytes).toBeLessThan(4096);
    const plain = text.replace(new RegExp(SGR.source, 'g'), '');
    expect(plain).toContain('► packing');
    expect(plain).toContain('✔ pushed');
    expect(text).not.toMatch(new RegExp(`${ESC}\\[1A`));
  });

  it('fits the list table to the terminal: the long revision is cut with an ellipsis, no row wraps', async () => {
    const store = join(work.path, 'store-list');
    const revision = `release/${'very-long-branch-name-'.repeat(6)}@sha1:0123456789abcdef0123456789abcdef01234567`;
    const pushed = await runCli(['push', `oci-layout://${store}:v1`, '-f', join(work.path, 'small'), '--source', 'https://example.invalid/r', '--revision', revision]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const { screen } = await inTerminal(`node ${BIN} list oci-layout://${store}`);
    const CSI = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g');
    const rows = screen.replace(CSI, '').split(/\r\n|\r|\n/).filter((line) => line.startsWith('oci-layout://') || line.startsWith('ARTIFACT'));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect([...row].length).toBeLessThan(160);
    expect(rows[1]).toContain('release/very-long-branch-name-');
    expect(rows[1]).toContain('…');
    expect(rows[1]).toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it('prints no bar and no escape codes into a pipe', async () => {
    const r = await runCli(['push', `oci-layout://${join(work.path, 'store-pipe')}:v1`, '-f', join(work.path, 'big'), '--source', 'https://example.invalid/r', '--revision', 'main@sha1:1']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/\/s\b/);
    expect(r.stderr + r.stdout).not.toMatch(ANY_ESCAPE);
    expect(r.stderr).toContain('► packing');
  });
});
