import { Annotation } from './mediatypes.js';
import type { Descriptor } from './types.js';

/**
 * What a progress line calls a blob: its file name (`org.opencontainers.image.title`) when it has one, else the
 * first 12 hex characters of its digest. One rule for the registry and the layout, so a push looks the same on both.
 */
export function labelOf(descriptor: Descriptor): string {
  const title = descriptor.annotations?.[Annotation.Title];
  if (title !== undefined) return title;
  const colon = descriptor.digest.indexOf(':');
  return descriptor.digest.slice(colon + 1, colon + 13);
}
