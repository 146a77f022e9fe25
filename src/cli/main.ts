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

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${packageVersion()}\n`);
} else {
  const { runCli } = await import('./program.js');
  process.exitCode = await runCli(argv);
}
