import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Paths to hand to the file system for entries below one directory (the extraction's staging tree, the output
 * directory it moves into), such that the kernel's work per call does not grow with the entry's depth.
 *
 * The kernel resolves a path component by component, so creating a chain of 2,000 directories through full paths
 * walks 2 million components (seconds). Node has no mkdirat/openat; on Linux `/proc/self/fd/N/name` is the same
 * thing: the magic link jumps straight to the directory open as N. Below DEEP levels the full path is cheap and used
 * as is, so ordinary trees make no extra calls; deeper, one descriptor, of the directory last written into, is
 * kept open (descending one level opens the child relative to it; any other jump opens by the full path once).
 * Elsewhere the full path is used.
 */
const FD_PATHS = process.platform === 'linux' && existsSync('/proc/self/fd');
const DEEP = 32;

export class TreePaths {
  private current: { rel: string; fd: number } | undefined;

  constructor(private readonly root: string) {}

  /** The path of `rel` (a normalised relative path below the root) for one system call. */
  of(rel: string): string {
    const slash = rel.lastIndexOf('/');
    if (!FD_PATHS || slash < 0 || depthOf(rel) < DEEP) return join(this.root, rel);
    return `/proc/self/fd/${this.descriptorOf(rel.slice(0, slash))}/${rel.slice(slash + 1)}`;
  }

  /** Close the descriptor kept open, if any. */
  close(): void {
    if (this.current !== undefined) closeSync(this.current.fd);
    this.current = undefined;
  }

  private descriptorOf(dir: string): number {
    if (this.current?.rel === dir) return this.current.fd;
    // One level down from the open directory, open relative to it; any other jump walks the full path once.
    const slash = dir.lastIndexOf('/');
    const path = this.current !== undefined && slash > 0 && dir.slice(0, slash) === this.current.rel
      ? `/proc/self/fd/${this.current.fd}/${dir.slice(slash + 1)}`
      : join(this.root, dir);
    const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    this.close();
    this.current = { rel: dir, fd };
    return fd;
  }
}

function depthOf(rel: string): number {
  let depth = 1;
  for (let i = rel.indexOf('/'); i >= 0 && depth < DEEP; i = rel.indexOf('/', i + 1)) depth++;
  return depth;
}
