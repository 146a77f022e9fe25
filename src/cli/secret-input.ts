import { OciError, usageError } from '../errors.js';

/** Read all of stdin as a secret (for --password-stdin), trailing newline removed. */
export async function readSecretFromStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/**
 * Prompt on the terminal without echo. Refuses when there is no terminal to ask, so a CI job fails with a
 * clear message instead of hanging.
 */
export async function promptSecret(question: string, missingHint: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY || !process.stderr.isTTY) {
    throw usageError('SECRET_REQUIRED', `${question.replace(/:\s*$/, '')} is needed and there is no terminal to ask`, missingHint);
  }
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (data: Buffer) => {
        for (const ch of data.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            resolve(value);
            return;
          }
          // Raw mode turns Ctrl-C into a character instead of SIGINT: end the run as the signal would (exit 130).
          if (ch === '\u0003') {
            stdin.off('data', onData);
            reject(new OciError('INTERRUPTED', 'interrupted by SIGINT', { kind: 'interrupted' }));
            return;
          }
          if (ch === '\u007f') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}
