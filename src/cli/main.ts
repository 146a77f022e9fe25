import { setFlagsFromString } from 'node:v8';
import { packageVersion } from './version.js';

/**
 * Entry point. `--version` is answered before anything else is imported, so the commonest probe from CI costs
 * only node's own start; everything else loads the command table and then just the command that runs.
 */
const argv = process.argv.slice(2);

// `oci-artifact list … | head` closes stdout early: that is the reader's choice, not an error, and nothing more
// needs printing.
onFirstUse('stdout', (stream) => stream.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
}));
// Nobody reads stderr: its lines are lost, but the command goes on and its outcome still decides the exit code
// (ending here would exit 0 for a failure whose error line was the write that found the pipe closed).
onFirstUse('stderr', (stream) => stream.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
  throw err;
}));

/**
 * Run `attach` on process[name] when something first uses it. Node makes a standard stream on first use, and for a
 * pipe that costs the net module and a socket, a few milliseconds that `--version` and `--help` (which never write to
 * stderr) should not pay; the handler must still be there before the first write.
 */
function onFirstUse(name: 'stdout' | 'stderr', attach: (stream: NodeJS.WriteStream) => void): void {
  const original = Object.getOwnPropertyDescriptor(process, name);
  if (original?.get === undefined || original.configurable !== true) {
    attach(process[name]);
    return;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: original.enumerable ?? true,
    get() {
      Object.defineProperty(process, name, original);
      const stream = process[name];
      attach(stream);
      return stream;
    },
  });
}

/**
 * V8 marks, sweeps and scavenges on helper threads by default. This CLI's heap stays small (~10-20 MiB) while
 * hundreds of MiB of buffers pass through it, so collections are frequent and short, and the helper threads compete
 * for the cores with the work spread over them (zlib on libuv's thread pool, a registry next door). On 2 cores a
 * 256 MiB pull took ~1.95 s with them and ~1.65 s without (CPU 2.65 -> 2.1 s), push was unchanged within noise, and
 * peak RSS rose ~20 MiB (pull ~105 -> ~125 MiB). This is --single-threaded-gc less parallel marking, which V8 does
 * not let a running process switch off (it aborts).
 */
function collectOnTheMainThread(): void {
  for (const flag of ['--no-concurrent-marking', '--no-concurrent-sweeping', '--no-concurrent-array-buffer-sweeping',
    '--no-parallel-scavenge', '--no-parallel-compaction', '--no-parallel-pointer-update']) {
    setFlagsFromString(flag);
  }
}

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${packageVersion()}\n`);
} else {
  collectOnTheMainThread();
  const { runCli } = await import('./program.js');
  process.exitCode = await runCli(argv);
}
