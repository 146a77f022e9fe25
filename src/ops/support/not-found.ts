import { Code, OciError } from '../../errors.js';
import { formatReference, repositoryName, type ArtifactReference } from '../../ref/reference.js';

/**
 * A registry's 404 says "MANIFEST_UNKNOWN for manifest app:v9"; the user typed a reference. Restate it in their
 * terms, with the next step. Layout errors already name the layout and pass through, as do all other errors.
 */
export function explainNotFound(err: unknown, ref: ArtifactReference): unknown {
  if (!(err instanceof OciError) || ref.kind !== 'registry') return err;
  const repository = `oci://${repositoryName(ref)}`;
  if (err.code === Code.ManifestUnknown) {
    const missing = ref.digest !== undefined ? `no manifest ${ref.digest}` : `no tag '${ref.tag ?? 'latest'}'`;
    return new OciError('MANIFEST_UNKNOWN', `${formatReference(ref)} not found: ${repository} has ${missing}`,
      { kind: err.kind, cause: err, hint: `see its tags with 'oci-artifact list ${repository}'` });
  }
  if (err.code === Code.NameUnknown) {
    return new OciError('NAME_UNKNOWN', `repository ${repository} does not exist`,
      { kind: err.kind, cause: err, hint: 'check the registry host and repository name' });
  }
  return err;
}
