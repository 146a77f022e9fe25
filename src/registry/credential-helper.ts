import { spawn } from 'node:child_process';
import { OciError } from '../errors.js';

/**
 * Docker credential helpers (docker-credential-<name>, the protocol of docker/docker-credential-helpers): one
 * action per run, input on stdin, JSON out. `get` takes the server URL and prints {ServerURL, Username, Secret};
 * `store` takes that JSON; `erase` takes the server URL. A helper's output may hold secrets, so only a capped and
 * redacted first line of it ever reaches a message.
 */
export interface HelperCredential {
  Username: string;
  Secret: string;
}

/** Username a helper returns when Secret is an OAuth2 identity (refresh) token rather than a password. */
export const IDENTITY_TOKEN_USERNAME = '<token>';

const HELPER_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 64 * 1024;
const MAX_MESSAGE = 200;
/** What the helpers print when they hold nothing for a server (docker-credential-helpers' ErrCredentialsNotFound). */
const NOT_FOUND = /credentials not found/i;

export function helperProgram(name: string): string {
  return `docker-credential-${name}`;
}

/** `get`: the stored credential, or undefined when the helper has none for `serverUrl`. */
export async function helperGet(name: string, serverUrl: string, env?: NodeJS.ProcessEnv): Promise<HelperCredential | undefined> {
  const out = await runHelper(name, 'get', serverUrl, env, [], true);
  if (out === undefined) return undefined;
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(out) as typeof parsed;
  } catch {
    throw new OciError('CREDENTIAL_HELPER_FAILED', `credential helper ${helperProgram(name)} answered 'get' for ${serverUrl} with something that is not JSON`, { kind: 'auth' });
  }
  if (typeof parsed.Secret !== 'string' || parsed.Secret === '') return undefined;
  return { Username: typeof parsed.Username === 'string' ? parsed.Username : '', Secret: parsed.Secret };
}

export async function helperStore(name: string, serverUrl: string, cred: HelperCredential, env?: NodeJS.ProcessEnv): Promise<void> {
  const input = JSON.stringify({ ServerURL: serverUrl, Username: cred.Username, Secret: cred.Secret });
  await runHelper(name, 'store', input, env, [cred.Secret], false);
}

/** `erase`: true when something was removed, false when the helper held nothing for `serverUrl`. */
export async function helperErase(name: string, serverUrl: string, env?: NodeJS.ProcessEnv): Promise<boolean> {
  return (await runHelper(name, 'erase', serverUrl, env, [], true)) !== undefined;
}

/** Run one helper action; undefined when `notFoundIsEmpty` and the helper says it holds nothing. */
async function runHelper(
  name: string,
  action: 'get' | 'store' | 'erase',
  input: string,
  env: NodeJS.ProcessEnv | undefined,
  secrets: string[],
  notFoundIsEmpty: boolean,
): Promise<string | undefined> {
  const program = helperProgram(name);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new OciError('CREDENTIAL_HELPER_INVALID', `'${name}' is not a valid credential helper name`, { kind: 'usage', hint: 'fix credsStore/credHelpers in the Docker config' });
  }
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string; error?: NodeJS.ErrnoException }>((resolve) => {
    const child = spawn(program, [action], { env: env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), HELPER_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => { if (stdout.length < MAX_OUTPUT) stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { if (stderr.length < MAX_OUTPUT) stderr += d.toString('utf8'); });
    child.stdin.on('error', () => undefined); // a helper that exits without reading its input
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr, error });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
  if (result.error?.code === 'ENOENT') {
    throw new OciError('CREDENTIAL_HELPER_MISSING', `credential helper ${program} is not installed (not found on PATH)`, {
      kind: 'auth',
      hint: `install ${program}, or remove it from credsStore/credHelpers in the Docker config`,
    });
  }
  if (result.code === 0) return result.stdout.trim();
  const said = `${result.stdout}\n${result.stderr}`;
  if (notFoundIsEmpty && NOT_FOUND.test(said)) return undefined;
  const why = result.error ? result.error.code ?? result.error.message : result.code === null ? 'killed' : `exit ${result.code}`;
  const detail = helperMessage(said, secrets);
  throw new OciError('CREDENTIAL_HELPER_FAILED', `credential helper ${program} failed to ${action} credentials (${why})${detail ? `: ${detail}` : ''}`, {
    kind: 'auth',
    hint: `check that ${program} works, e.g. 'echo <registry> | ${program} get'`,
  });
}

/**
 * First non-empty line of a helper's output, capped, with the secrets we know and anything that looks like a
 * token (a long run of token characters) replaced: a failing helper may echo what it was given.
 */
export function helperMessage(output: string, secrets: string[] = []): string {
  let line = output.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '') ?? '';
  for (const secret of secrets) if (secret !== '') line = line.split(secret).join('REDACTED');
  line = line.replace(/[A-Za-z0-9+/=_.~-]{24,}/g, (run) => (/\d/.test(run) && /[A-Za-z]/.test(run) ? 'REDACTED' : run));
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
}
