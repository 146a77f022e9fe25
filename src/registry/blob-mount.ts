import { Code, isOciError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { blobMountUrl } from './distribution-urls.js';
import { handedOutUrl } from './handed-out-urls.js';
import type { HttpResponse } from './http.js';
import { responseError } from './registry-errors.js';
import type { RepositorySession } from './repository-session.js';
import { repositoryScope } from './scopes.js';

/**
 * Cross-repository blob mount (distribution spec end-11): the registry links a blob it holds in another repository
 * instead of receiving it again. Only a shortcut: any "no" (the source lacks it, no read access to the source, an
 * ordinary upload opened instead, which is cancelled) tells the caller to upload.
 */
export async function mountBlob(session: RepositorySession, descriptor: Descriptor, fromRepository: string, signal: AbortSignal | undefined): Promise<boolean> {
  const what = `mount of blob ${descriptor.digest} from ${fromRepository} into ${session.name}`;
  const scopes = [...session.push, repositoryScope(fromRepository)];
  let res: HttpResponse;
  try {
    res = await session.send({
      method: 'POST', url: blobMountUrl(session.name, descriptor.digest, fromRepository), idempotent: true, what, signal,
    }, scopes);
  } catch (err) {
    // No read access to the source repository: a mount is only a shortcut, the caller uploads instead.
    if (isOciError(err, Code.Denied)) return false;
    throw err;
  }
  res.body.resume();
  if (res.status === 201) return true;
  if (res.status === 202) {
    // The registry opened an ordinary upload instead; cancel it (end-14, DELETE of the session) so it does not linger.
    const location = res.headers.location;
    if (location !== undefined) {
      const url = handedOutUrl(location, res, session.host, `the cancel of the ${what}`);
      const cancel = await session.send({ method: 'DELETE', url, what: `cancel of the ${what}`, signal }, scopes);
      cancel.body.resume();
    }
    return false;
  }
  if (res.status === 404) return false;
  throw await responseError(res, session.host, what);
}
