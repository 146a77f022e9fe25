import { posix } from 'node:path';

/**
 * Tar headers laid out byte for byte as Go's archive/tar Writer lays them out for the headers Flux writes
 * (uid/gid 0, no user or group names, mtime 0, no access/change times), so an artifact built here has the same
 * uncompressed tar, hence the same diff_id, as `flux push artifact` of the same tree.
 *
 * Go picks USTAR when it can (ASCII name of at most 100 bytes, or one it can split into the 155-byte prefix
 * and 100-byte name fields; size below 8 GiB), else PAX: an extended header `<dir>/PaxHeaders.0/<base>`
 * carrying `path` and/or `size` records, then the main header with what fits.
 */
const BLOCK_SIZE = 512;

export interface TarHeader {
  /** '/'-separated, relative, no trailing slash (Flux names the root `.`). */
  name: string;
  type: 'file' | 'directory';
  mode: number;
  size: number;
}

const NAME_SIZE = 100;
const PREFIX_SIZE = 155;
/** The 12-byte octal size field holds 11 digits. */
const MAX_OCTAL_SIZE = 8 ** 11;

const TYPE_FLAG = { file: '0', directory: '5' } as const;

/** The header block(s) for one entry: 512 bytes, or 1536+ when a PAX extended header is needed. */
export function encodeTarHeader(header: TarHeader): Buffer {
  const { name, size } = header;
  const needsPath = !isAscii(name) || Buffer.byteLength(name) > NAME_SIZE;
  const bigSize = size >= MAX_OCTAL_SIZE;
  const split = needsPath && isAscii(name) ? splitUstarPath(name) : undefined;
  if (!bigSize && (!needsPath || split)) {
    return mainHeader(header, split?.name ?? name, split?.prefix ?? '');
  }
  const records: string[] = [];
  if (needsPath) records.push(paxRecord('path', name));
  if (bigSize) records.push(paxRecord('size', String(size)));
  const data = Buffer.from(records.join(''));
  const dir = name.slice(0, name.lastIndexOf('/') + 1);
  const base = name.slice(name.lastIndexOf('/') + 1);
  const extName = toAscii(posix.join(dir, 'PaxHeaders.0', base)).slice(0, NAME_SIZE).replace(/\/+$/, '');
  return Buffer.concat([extendedHeader(extName, data.length), data, padding(data.length), mainHeader(header, toAscii(name), '')]);
}

/** Zero bytes that round `size` up to a whole block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK_SIZE;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK_SIZE - rest);
}

/** Go's tar Writer ends an archive with two zero blocks and nothing more. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK_SIZE);

function mainHeader(header: TarHeader, name: string, prefix: string): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeString(block, 0, NAME_SIZE, name);
  writeOctal(block, 100, 8, header.mode);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, header.size);
  writeOctal(block, 136, 12, 0); // mtime: Go writes the Unix epoch for a zero time
  block.write(TYPE_FLAG[header.type], 156, 'latin1');
  writeMagic(block);
  writeOctal(block, 329, 8, 0); // devmajor
  writeOctal(block, 337, 8, 0); // devminor
  writeString(block, 345, PREFIX_SIZE, prefix);
  return withChecksum(block);
}

/** Go's writeRawFile: only name, mode, ids, size, mtime and type are formatted; the rest stays zero. */
function extendedHeader(name: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeString(block, 0, NAME_SIZE, name);
  writeOctal(block, 100, 8, 0);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, 0);
  block.write('x', 156, 'latin1');
  writeMagic(block);
  return withChecksum(block);
}

function writeMagic(block: Buffer): void {
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
}

/** Copy at most `length` bytes; the rest of the field is already zero (Go's NUL terminator). */
function writeString(block: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value);
  bytes.copy(block, offset, 0, Math.min(bytes.length, length));
  if (bytes.length > length) {
    // Go replaces the slashes a truncated name ends with by NUL, so no reader sees a directory.
    let end = offset + length;
    while (end > offset && block[end - 1] === 0x2f) block[--end] = 0;
  }
}

/** Zero-padded octal leaving room for a NUL; a value that does not fit is written as 0 (Go's last resort). */
function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  const fits = value >= 0 && value < 8 ** (length - 1);
  const digits = (fits ? value : 0).toString(8).padStart(length - 1, '0');
  block.write(digits, offset, 'latin1');
}

function withChecksum(block: Buffer): Buffer {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0`, 148, 'latin1');
  return block;
}

function isAscii(value: string): boolean {
  return /^[\x01-\x7f]*$/.test(value);
}

function toAscii(value: string): string {
  return value.replace(/[^\x01-\x7f]/gu, '');
}

/** Go's splitUSTARPath: the longest prefix up to 155 bytes ending at a '/', leaving a name of 1-100 bytes. */
function splitUstarPath(name: string): { prefix: string; name: string } | undefined {
  let length = name.length;
  if (length <= NAME_SIZE) return undefined;
  if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
  else if (name[length - 1] === '/') length--;
  const slash = name.lastIndexOf('/', length - 1);
  const suffixLength = name.length - slash - 1;
  if (slash <= 0 || suffixLength > NAME_SIZE || suffixLength === 0 || slash > PREFIX_SIZE) return undefined;
  return { prefix: name.slice(0, slash), name: name.slice(slash + 1) };
}

/** One PAX record, `<length> <key>=<value>\n`, the length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = Buffer.byteLength(key) + Buffer.byteLength(value) + 3;
  let size = body + String(body).length;
  let record = `${size} ${key}=${value}\n`;
  if (Buffer.byteLength(record) !== size) {
    size = Buffer.byteLength(record);
    record = `${size} ${key}=${value}\n`;
  }
  return record;
}
