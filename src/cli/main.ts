import { packageVersion } from './version.js';

/**
 * Entry point. `--version` is answered before anything else is imported, so the commonest probe from CI costs
 * only node's own start; everything else loads the command table and then just the command that runs.
 */
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${packageVersion()}\n`);
} else {
  const { runCli } = await import('./program.js');
  process.exitCode = await runCli(argv);
}
