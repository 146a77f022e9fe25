import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { OciError } from '../errors.js';

/**
 * Cross-process mutual exclusion for index.json: a lock file created with O_CREAT|O_EXCL (the `wx` flag), which
 * is atomic on local file systems. Writers retry with a short random delay until `timeoutMs` has passed. Each
 * lock file holds a unique token (pid, host, time, random), so a process only ever removes the file it made.
 *
 * Stale locks: a holder only does one read-modify-write of index.json (milliseconds), so a lock file older than
 * `staleMs` is taken to be left by a process that died while holding it. It is removed by renaming it to a
 * unique name (only one of several waiters can win that rename) and deleting it if it still holds the token that
 * was judged stale; if another waiter had already replaced it with a fresh lock, the fresh one is put back with
 * link(), which fails instead of overwriting. A holder stuck for longer than `staleMs` (e.g. a suspended
 * process) can therefore lose its lock; the defaults keep that far outside normal operation.
 */
export interface LockOptions {
  /** What the lock guards, for the message when it cannot be had (default: the OCI layout). */
  what?: string;
  timeoutMs?: number;
  staleMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_STALE_MS = 10_000;
const MIN_DELAY_MS = 5;
const MAX_DELAY_MS = 40;

export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const token = await acquire(lockPath, options);
  try {
    return await fn();
  } finally {
    // Only our own lock: if it was taken over as stale, the file there now is someone else's.
    if ((await readToken(lockPath)) === token) await unlink(lockPath).catch(() => undefined);
  }
}

/** Returns the token written into the lock file it created. */
async function acquire(lockPath: string, options: LockOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const deadline = Date.now() + timeoutMs;
  const token = `${process.pid}@${hostname()} ${new Date().toISOString()} ${randomBytes(8).toString('hex')}\n`;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(token);
      } finally {
        await handle.close();
      }
      return token;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new OciError('LAYOUT_LOCK_FAILED', `cannot create lock file ${lockPath}: ${(err as Error).message}`, {
          kind: 'usage',
          cause: err,
        });
      }
    }
    await removeIfStale(lockPath, staleMs);
    if (Date.now() >= deadline) {
      const what = options.what ?? 'OCI layout';
      throw new OciError('LAYOUT_LOCKED', `${what} is locked by another process: ${lockPath} still exists after ${timeoutMs} ms`, {
        kind: 'usage',
        hint: `if no other process is writing to ${options.what ?? 'this layout'}, delete ${lockPath}`,
      });
    }
    await delay(MIN_DELAY_MS + Math.random() * (MAX_DELAY_MS - MIN_DELAY_MS), undefined, { signal: options.signal }).catch((err) => {
      options.signal?.throwIfAborted(); // the caller's reason, not a generic AbortError
      throw err;
    });
  }
}

async function removeIfStale(lockPath: string, staleMs: number): Promise<void> {
  const info = await stat(lockPath).catch(() => undefined);
  if (info === undefined || Date.now() - info.mtimeMs < staleMs) return;
  const stale = await readToken(lockPath);
  if (stale === undefined) return;
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // another waiter removed it first
  }
  if ((await readToken(aside)) !== stale) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function readToken(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}
