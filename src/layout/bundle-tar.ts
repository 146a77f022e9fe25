import type { FileHandle } from 'node:fs/promises';
import { OciError } from '../errors.js';

/**
 * The entries of an uncompressed tar file, found by reading only its headers (one 512-byte read per entry, the
 * contents skipped by offset), so a bundle's index.json and blobs are then read in place. Reads what Go's
 * archive/tar (skopeo, oras, crane), GNU tar and we write: USTAR names with prefixes, PAX `path`/`size` records,
 * GNU long names. Only regular files are indexed; a name stored twice means its last copy, as tar extracts it.
 */
export interface TarEntry {
  /** Byte offset of the content in the file. */
  offset: number;
  size: number;
}

const BLOCK = 512;
/** Extended headers carry a name and a size; anything this large is not one. */
const MAX_EXTENDED_HEADER = 1024 * 1024;
/** Far beyond a layout's blobs; bounds the map a hostile file makes us hold. */
const MAX_ENTRIES = 1_000_000;

export async function indexTarEntries(handle: FileHandle, fileSize: number, location: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const header = Buffer.alloc(BLOCK);
  let position = 0;
  let pending: { path?: string; size?: number } = {};
  while (position + BLOCK <= fileSize) {
    await readFully(handle, header, position);
    if (header.every((byte) => byte === 0)) return entries;
    if (!checksumMatches(header)) throw notTar(location, `the header at byte ${position} has a wrong checksum`);
    const type = String.fromCharCode(header[156] ?? 0);
    const size = pending.size ?? parseNumber(header.subarray(124, 136));
    const dataAt = position + BLOCK;
    if (size === undefined || dataAt + size > fileSize) throw notTar(location, `the entry at byte ${position} runs past the end of the file`);
    if (type === 'x' || type === 'L') {
      if (size > MAX_EXTENDED_HEADER) throw notTar(location, `an extended header at byte ${position} is ${size} bytes`);
      const data = Buffer.alloc(size);
      await readFully(handle, data, dataAt);
      pending = type === 'x' ? { ...pending, ...paxRecords(data) } : { ...pending, path: data.toString('utf8').replace(/\0+$/, '') };
    } else {
      if (type === '0' || type === '\0' || type === '7') {
        const name = normalise(pending.path ?? ustarName(header));
        entries.delete(name); // a later copy replaces it, and is listed last
        entries.set(name, { offset: dataAt, size });
        if (entries.size > MAX_ENTRIES) throw notTar(location, `it holds more than ${MAX_ENTRIES} files`);
      }
      pending = {};
    }
    position = dataAt + Math.ceil(size / BLOCK) * BLOCK;
  }
  // No end-of-archive blocks: GNU tar accepts that, and so do we when the last entry is whole.
  return entries;
}

async function readFully(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) throw new OciError('LAYOUT_INVALID', `unexpected end of file at byte ${position + done}`, { kind: 'usage' });
    done += bytesRead;
  }
}

/** The header's checksum: the sum of its bytes with the checksum field read as spaces. */
function checksumMatches(header: Buffer): boolean {
  const stored = parseNumber(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
  return stored === sum;
}

/** An octal field, or GNU's base-256 form for sizes of 8 GiB and more. */
function parseNumber(field: Buffer): number | undefined {
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] as number);
    return Number.isSafeInteger(value) ? value : undefined;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]*$/.test(text)) return undefined;
  return text === '' ? 0 : parseInt(text, 8);
}

function ustarName(header: Buffer): string {
  const field = (from: number, to: number) => header.subarray(from, to).toString('utf8').replace(/\0.*$/s, '');
  const name = field(0, 100);
  const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? field(345, 500) : '';
  return prefix === '' ? name : `${prefix}/${name}`;
}

/** `<length> <key>=<value>\n` records; only the path and size matter here. */
function paxRecords(data: Buffer): { path?: string; size?: number } {
  const found: { path?: string; size?: number } = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = space < 0 ? NaN : Number(data.subarray(at, space).toString('latin1'));
    if (!Number.isSafeInteger(length) || length <= 0) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') found.path = value;
    if (key === 'size' && /^\d+$/.test(value)) found.size = Number(value);
    at += length;
  }
  return found;
}

/** `./blobs//sha256/x` and `blobs/sha256/x` name the same file. */
export function normalise(name: string): string {
  return name.split('/').filter((part) => part !== '' && part !== '.').join('/');
}

function notTar(location: string, why: string): OciError {
  return new OciError('LAYOUT_INVALID', `${location} is not a tar file holding an OCI image layout: ${why}`, {
    kind: 'usage',
    hint: 'point to a bundle written by oci-artifact, skopeo (oci-archive:) or `tar -cf` of a layout directory',
  });
}
