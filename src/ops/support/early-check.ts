import type { Repository } from '../../oci/types.js';

/**
 * The registry checked while push packs, so a wrong host or password fails early instead of after the pack:
 * either a check started when packing runs long, or a request already under way (the manifest behind the tag,
 * for --if-changed) whose failure stops the pack.
 */

/** A pack that runs longer than this contacts the registry meanwhile. */
const EARLY_CHECK_AFTER_MS = 500;

export interface EarlyCheck {
  /** Stop waiting to start the check; resolve once a started one passed, or throw its error. */
  settle(): Promise<void>;
}

/**
 * A wrong host or password should fail within a second, not after the whole tree is packed. A pack that outlasts
 * EARLY_CHECK_AFTER_MS therefore checks the repository meanwhile (the credential handshake it completes is reused by
 * the upload), and a failed check aborts the pack. A short pack starts no extra request: its first upload request
 * comes as soon, and the request budget of a push stays as it is.
 */
export function checkWhilePacking(repo: Repository, signal: AbortSignal | undefined, packing: AbortController): EarlyCheck {
  if (repo.checkWritable === undefined) return { settle: async () => undefined };
  let check: Promise<void> | undefined;
  const timer = setTimeout(() => {
    check = repo.checkWritable!({ signal }).catch((err: unknown) => {
      packing.abort(err);
      throw err;
    });
    check.catch(() => undefined); // settled by settle(); never an unhandled rejection meanwhile
  }, EARLY_CHECK_AFTER_MS);
  return {
    async settle() {
      clearTimeout(timer);
      await check;
    },
  };
}

/** The pack stops as soon as `request` fails; settle() throws that failure. */
export function failPackingOn(request: Promise<unknown>, packing: AbortController): EarlyCheck {
  request.catch((err: unknown) => packing.abort(err));
  return {
    async settle() {
      await request;
    },
  };
}
