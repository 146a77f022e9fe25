import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { OciError } from '../errors.js';

/**
 * Cross-process mutual exclusion for index.json: a lock file created with O_CREAT|O_EXCL (the `wx` flag), which
 * is atomic on local file systems. Writers retry with a short random delay until `timeoutMs` has passed.
 *
 * Stale locks: a holder only does one read-modify-write of index.json (milliseconds), so a lock file older than
 * `staleMs` is taken to be left by a process that died while holding it. It is removed by renaming it to a
 * unique name (only one of several waiters can win that rename) and deleting it if it is still the file that was
 * judged stale (same inode); if another waiter had already replaced it with a fresh lock, the fresh one is put
 * back with link(), which fails instead of overwriting. A holder stuck for longer than `staleMs` (e.g. a
 * suspended process) can therefore lose its lock; the defaults keep that far outside normal operation.
 */
export interface LockOptions {
  timeoutMs?: number;
  staleMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_STALE_MS = 10_000;
const MIN_DELAY_MS = 5;
const MAX_DELAY_MS = 40;

export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const ino = await acquire(lockPath, options);
  try {
    return await fn();
  } finally {
    // Only our own lock file: if it was taken over as stale, the file there now is someone else's.
    const current = await stat(lockPath).catch(() => undefined);
    if (current?.ino === ino) await unlink(lockPath).catch(() => undefined);
  }
}

/** Returns the inode of the lock file it created. */
async function acquire(lockPath: string, options: LockOptions): Promise<number> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(lockPath, 'wx');
      // Who holds it, for a person looking at a lock left behind.
      try {
        await handle.writeFile(`${process.pid}@${hostname()} ${new Date().toISOString()}\n`);
        return (await handle.stat()).ino;
      } finally {
        await handle.close();
      }
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
      throw new OciError('LAYOUT_LOCKED', `OCI layout is locked by another process: ${lockPath} still exists after ${timeoutMs} ms`, {
        kind: 'usage',
        hint: `if no other process is writing to this layout, delete ${lockPath}`,
      });
    }
    await delay(MIN_DELAY_MS + Math.random() * (MAX_DELAY_MS - MIN_DELAY_MS), undefined, { signal: options.signal }).catch((err) => {
      options.signal?.throwIfAborted(); // the caller's reason, not a generic AbortError
      throw err;
    });
  }
}

async function removeIfStale(lockPath: string, staleMs: number): Promise<void> {
  const before = await stat(lockPath).catch(() => undefined);
  if (before === undefined || Date.now() - before.mtimeMs < staleMs) return;
  const aside = `${lockPath}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // another waiter removed it first
  }
  const moved = await stat(aside).catch(() => undefined);
  if (moved !== undefined && moved.ino !== before.ino) {
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}
