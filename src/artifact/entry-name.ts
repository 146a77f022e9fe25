/**
 * The one rule for which paths an artifact may hold, used by the packer (walk.ts: refused at push) and the
 * unpacker (tar-reader.ts: refused at pull), so what push writes, pull (and Flux) always read.
 *
 * A path is '/'-separated and relative, already normalised (no '', '.' components). Refused:
 *  - a NUL or a backslash anywhere, a `..` component, a first component like `C:` (absolute on Windows);
 *  - a directory whose name ends in `..` (`v1..`): Flux's Untar refuses every name containing `../`, and Go's tar
 *    writer names a directory with a trailing slash, so Flux could not pull it;
 *  - a component over 255 bytes (NAME_MAX of Linux, macOS and Windows), a path over 4096 bytes (Linux's PATH_MAX,
 *    the longest any system here takes). This also bounds the depth: each level costs at least two bytes, so at
 *    most 2048 levels.
 */
export const MAX_COMPONENT_BYTES = 255;
export const MAX_PATH_BYTES = 4096;

/** What is wrong with `path` (a phrase that follows the quoted name), or undefined when it may be in an artifact. */
export function entryNameProblem(path: string, type: 'file' | 'directory' | 'symlink'): string | undefined {
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.includes('\\')) return 'contains a backslash';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a drive letter (an absolute path on Windows)';
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_PATH_BYTES) return `is ${bytes} bytes long (at most ${MAX_PATH_BYTES})`;
  const parts = path.split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '..') return "contains a '..' component";
    const isDirectory = i < parts.length - 1 || type === 'directory';
    if (isDirectory && part.endsWith('..')) return `has a directory named '${clipName(part)}': Flux refuses names containing '../'`;
    if (Buffer.byteLength(part) > MAX_COMPONENT_BYTES) return `has a name of ${Buffer.byteLength(part)} bytes (at most ${MAX_COMPONENT_BYTES})`;
  }
  return undefined;
}

const SHOWN_CHARACTERS = 80;

/** A name as a message shows it: cut to its first characters when long (a tar name can be 1 MB). */
export function clipName(name: string): string {
  if (name.length <= SHOWN_CHARACTERS) return name;
  return `${name.slice(0, SHOWN_CHARACTERS)}… (${Buffer.byteLength(name)} bytes)`;
}
