import { describe, expect, it } from 'vitest';
import {
  apiRootUrl, blobMountUrl, blobUrl, manifestUrl, referrersUrl, tagListUrl, uploadCompletionUrl, uploadSessionUrl,
} from '../../src/registry/distribution-urls.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('distribution API paths', () => {
  it('follows the endpoints table of the distribution spec', () => {
    expect(apiRootUrl()).toBe('/v2/');
    expect(manifestUrl('team/app', 'v1')).toBe('/v2/team/app/manifests/v1');
    expect(manifestUrl('team/app', DIGEST)).toBe(`/v2/team/app/manifests/${DIGEST}`);
    expect(blobUrl('team/app', DIGEST)).toBe(`/v2/team/app/blobs/${DIGEST}`);
    expect(uploadSessionUrl('team/app')).toBe('/v2/team/app/blobs/uploads/');
    expect(tagListUrl('team/app', 1000)).toBe('/v2/team/app/tags/list?n=1000');
    expect(referrersUrl('team/app', DIGEST)).toBe(`/v2/team/app/referrers/${DIGEST}`);
  });

  it('encodes query values', () => {
    expect(blobMountUrl('team/app', DIGEST, 'other/repo')).toBe(`/v2/team/app/blobs/uploads/?mount=sha256%3A${'a'.repeat(64)}&from=other%2Frepo`);
    expect(referrersUrl('app', DIGEST, 'application/vnd.dev.cosign.artifact.sig.v1+json'))
      .toBe(`/v2/app/referrers/${DIGEST}?artifactType=application%2Fvnd.dev.cosign.artifact.sig.v1%2Bjson`);
  });

  it('closes an upload session at the location the registry handed out, keeping its own query', () => {
    expect(uploadCompletionUrl('https://r.test/v2/app/blobs/uploads/u1?_state=xyz', DIGEST))
      .toBe(`https://r.test/v2/app/blobs/uploads/u1?_state=xyz&digest=sha256%3A${'a'.repeat(64)}`);
  });
});
