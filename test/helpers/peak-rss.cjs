// Preloaded into a child node (NODE_OPTIONS=--require …): at exit, writes the process's peak resident set
// (VmHWM, all threads) to stderr as `peak-rss-kib N`, for memory bounds checked by tests.
const { readFileSync, writeSync } = require('node:fs');

process.on('exit', () => {
  const match = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  if (match) writeSync(2, `\npeak-rss-kib ${match[1]}\n`);
});
