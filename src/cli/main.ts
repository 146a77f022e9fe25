import { packageVersion } from './version.js';

/**
 * Entry point. `--version` is answered before anything else is imported, so the commonest probe from CI costs
 * only node's own start; everything else loads the command table and then just the command that runs.
 */
const argv = process.argv.slice(2);

// `oci-artifact list … | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${packageVersion()}\n`);
} else {
  const { runCli } = await import('./program.js');
  process.exitCode = await runCli(argv);
}
