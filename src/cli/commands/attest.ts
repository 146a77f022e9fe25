import { Option } from '@commander-js/extra-typings';
import { reportSigned } from '../ci-report.js';
import { handler, newCommand, parseArtifactArguments, withRuntime } from '../command.js';
import { required } from '../flag-rules.js';
import { withDotenvFlag, withProviderFlag } from '../flags.js';
import { signerFromFlags, withKeylessFlags } from '../keyless-flags.js';

/** `attest REF --predicate FILE --type TYPE`: a signed in-toto attestation stored as cosign v3 stores it. */
export function attestCommand() {
  return withKeylessFlags(withDotenvFlag(withProviderFlag(newCommand('attest'))), 'keyless')
    .argument('<reference>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .addOption(required(new Option('--predicate <file>', 'the predicate: a JSON document (any text for --type custom)')))
    .option('--type <type>', 'slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx, vuln, openvex, custom, or a predicate type URI', 'custom')
    .addOption(new Option('--key <path>', 'private key: PEM (EC, RSA, Ed25519) or cosign encrypted (COSIGN_PASSWORD)'))
    .option('--keyless', "sign with a short-lived Fulcio certificate for the CI job's OIDC identity, logged in Rekor")
    .option('-o, --output <format>', 'table, json or yaml')
    .addHelpText('after', EXAMPLES)
    .action(handler(async (reference, flags, cmd) => {
      const { ref, format } = await parseArtifactArguments(reference, flags.output);
      const { keyPath, password, keyless } = await signerFromFlags('attest', cmd.optsWithGlobals());
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const { attest } = await import('../../ops/attest.js');
        const result = await attest(ref, { predicate: { type: flags.type, path: flags.predicate }, keyPath, password, keyless }, ctx);
        reporter.success(`attested ${result.reference} (${result.predicateType} at ${result.location})`);
        await reportSigned('attest', ref, result, `attested (${result.predicateType} at ${result.location})`, format, flags.dotenv);
        return 0;
      });
    }));
}

const EXAMPLES = `
Examples:
  # attach a CycloneDX SBOM, signed with a key
  oci-artifact attest oci://ghcr.io/org/app:v1 --predicate sbom.cdx.json --type cyclonedx --key cosign.key

  # keyless, in a CI job with an OIDC identity (GitHub Actions: permissions id-token: write)
  oci-artifact attest oci://ghcr.io/org/app:v1 --predicate provenance.json --type slsaprovenance1 --keyless

  # check it and print its predicate
  oci-artifact verify oci://ghcr.io/org/app:v1 --attestation cyclonedx --key cosign.pub -o json
`;
