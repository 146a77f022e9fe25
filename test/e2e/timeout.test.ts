import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cleanEnv } from '../helpers/cli.js';

/**
 * `--timeout` and Ctrl-C bound every wait, on the built CLI: a loopback listener accepts connections and never
 * sends a byte, so the client waits in the TLS handshake (the loopback scheme probe), where undici itself would
 * only give up after its connect timeout.
 */

let silent: Server;
let host: string;
/** Pull target: never written, since nothing ever arrives. */
let work: string;
const out = (): string => join(work, 'out');
const sockets = new Set<Socket>();
let connected: (() => void) | undefined;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'oci-artifact-timeout-'));
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    connected?.();
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(silent.address() as { port: number }).port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  expect(readdirSync(work)).toEqual([]);
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stderr: string;
  /** ms from spawn to exit */
  elapsed: number;
  /** ms from SIGINT to exit, when one was sent */
  afterSignal?: number;
}

/** Run the CLI; with `interruptAfterMs`, send SIGINT that long after the listener saw the connection. */
function run(args: string[], interruptAfterMs?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let signalled = 0;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv() });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    child.stdin.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    if (interruptAfterMs !== undefined) {
      connected = () => {
        connected = undefined;
        setTimeout(() => {
          signalled = Date.now();
          child.kill('SIGINT');
        }, interruptAfterMs);
      };
    }
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      connected = undefined;
      const now = Date.now();
      resolve({ code, stderr, elapsed: now - started, afterSignal: signalled ? now - signalled : undefined });
    });
  });
}

describe('a registry that accepts the connection and never answers', () => {
  it('--timeout 3s ends the command at 3 s, naming the host and --timeout', async () => {
    const r = await run(['pull', `oci://${host}/app:v1`, '-o', out(), '--timeout', '3s']);
    expect(r.code).toBe(3);
    // The deadline counts from the start of the process; 1 s is left for exiting on a loaded machine.
    expect(r.elapsed).toBeGreaterThanOrEqual(2_900);
    expect(r.elapsed).toBeLessThan(4_000);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('✗'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`timed out after 3s`);
    expect(lines[0]).toContain(host);
    expect(lines[0]).toContain('--timeout');
  });

  it('SIGINT during the wait ends the command at once with exit 130', async () => {
    const r = await run(['pull', `oci://${host}/app:v1`, '-o', out()], 1_000);
    expect(r.code).toBe(130);
    expect(r.afterSignal).toBeDefined();
    expect(r.afterSignal!).toBeLessThan(1_500);
    expect(r.stderr).toContain('interrupted by SIGINT');
  });

  it('with the default timeout, gives up after one connect timeout with a line naming the host and --timeout', async () => {
    const r = await run(['pull', `oci://${host}/app:v1`, '-o', out()]);
    expect(r.code).toBe(3);
    // One 10 s connect timeout, not five attempts with backoff in between.
    expect(r.elapsed).toBeLessThan(15_000);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('✗'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`registry ${host} did not complete a connection within 10s`);
    expect(lines[0]).toContain('--timeout');
  });
});
