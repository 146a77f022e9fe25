import { usageError } from '../../errors.js';
import type { Repository } from '../../oci/types.js';
import { repositoryName, withVersion, type ArtifactReference } from '../../ref/reference.js';
import { explainNotFound } from './not-found.js';
import { selectTags, type TagFilterOptions } from './tag-filter.js';

/**
 * `--latest` for tag and copy: the first tag `list` would show with the same filters (the highest version in a
 * semver range), as the reference to promote. The reference must name a repository only.
 */
export async function selectLatest(
  repo: Repository,
  ref: ArtifactReference,
  filter: TagFilterOptions,
  signal?: AbortSignal,
): Promise<ArtifactReference> {
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw usageError('REFERENCE_INVALID', `--latest picks the tag itself; give the repository ${repositoryName(ref)} without a tag or digest`);
  }
  selectTags([], filter);
  const all = await repo.listTags({ signal }).catch((err: unknown) => Promise.reject(explainNotFound(err, ref)));
  const [latest] = selectTags(all, filter);
  if (latest === undefined) {
    const what = [filter.semver && `in the semver range '${filter.semver}'`, filter.regex && `matching '${filter.regex}'`].filter(Boolean).join(' and ');
    throw usageError('NO_TAG_MATCHES', `${repositoryName(ref)} has no tag${what ? ` ${what}` : ''} (of ${all.length})`, 'list the tags with `list` and the same filters');
  }
  return withVersion(ref, { tag: latest });
}
