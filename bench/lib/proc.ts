import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Child processes with a wall-time bound, their wall time, and optionally their peak RSS and CPU time. */

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Killed (SIGKILL) after this long; the result then has code null. Default 5 minutes. */
  timeoutMs?: number;
  /** Measure the child's peak resident set size (GNU time's %M, else VmHWM polled from /proc). */
  measureRss?: boolean;
  /** Measure the CPU time (user + system) of the child and the processes it waited for (GNU time's %U + %S). */
  measureCpu?: boolean;
  /** Keep stdout (default: discarded, to keep the parent's own work out of the measurement). */
  captureStdout?: boolean;
}

export interface RunResult {
  code: number | null;
  ms: number;
  stdout: string;
  stderr: string;
  /** Peak RSS in MiB, when asked for. */
  peakRssMiB?: number;
  /** CPU seconds, user + system, when asked for and GNU time is there. */
  cpuSeconds?: number;
}

const GNU_TIME = '/usr/bin/time';
const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const STDERR_KEEP = 64 * 1024;

export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const gnuTime = (options.measureRss === true || options.measureCpu === true) && existsSync(GNU_TIME);
  const rssDir = gnuTime ? mkdtempSync(join(tmpdir(), 'bench-rss-')) : undefined;
  const rssFile = rssDir === undefined ? undefined : join(rssDir, 'rss');
  const [file, argv] = rssFile !== undefined ? [GNU_TIME, ['-f', '%M %U %S', '-o', rssFile, command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, argv, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', options.captureStdout ? 'pipe' : 'ignore', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < STDERR_KEEP) stderr += d.toString();
    });
    let polledKiB = 0;
    const poll = options.measureRss === true && !gnuTime && child.pid !== undefined
      ? setInterval(() => (polledKiB = Math.max(polledKiB, vmHwmKiB(child.pid!))), 10)
      : undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      reject(err);
    });
    child.on('close', (code) => {
      const ms = performance.now() - start;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      const result: RunResult = { code, ms, stdout, stderr };
      if (rssFile !== undefined) {
        const [kib, user, system] = (readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
        if (options.measureRss && Number.isFinite(kib)) result.peakRssMiB = kib! / 1024;
        if (options.measureCpu && Number.isFinite(user) && Number.isFinite(system)) result.cpuSeconds = user! + system!;
        rmSync(rssDir!, { recursive: true, force: true });
      } else if (options.measureRss) {
        result.peakRssMiB = polledKiB / 1024;
      }
      resolve(result);
    });
  });
}

/** Like run, but fails with the child's stderr when it does not exit 0. */
export async function runOk(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code ?? 'on timeout'}: ${result.stderr.trim().slice(0, 2000)}`);
  }
  return result;
}

/** A bash pipeline with pipefail, so a failing stage fails the measurement. */
export function shell(script: string, options: RunOptions = {}): Promise<RunResult> {
  return runOk('bash', ['-c', `set -o pipefail; ${script}`], options);
}

/** CPU seconds (user + system) a running process has used so far, from /proc (0 when it cannot be read). */
export function processCpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Linux's USER_HZ, the unit of /proc/PID/stat's times: 100 on every architecture node runs on. */
const CLOCK_TICKS = 100;

function vmHwmKiB(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The first line a command prints about its version, or 'not installed'. */
export async function versionOf(command: string, args: string[] = ['--version']): Promise<string> {
  try {
    const r = await run(command, args, { captureStdout: true, timeoutMs: 10_000 });
    return (r.stdout + r.stderr).trim().split('\n')[0] ?? '';
  } catch {
    return 'not installed';
  }
}
