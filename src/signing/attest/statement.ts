/** in-toto Statement v1 (https://in-toto.io/Statement/v1): the artifact's manifest digest as subject. */
import type { Descriptor } from '../../oci/types.js';
import { parseDigest } from '../../ref/digest.js';

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

export interface Statement {
  _type: string;
  subject: Array<{ name: string; digest: Record<string, string> }>;
  predicateType: string;
  predicate: unknown;
}

/** `name` is the repository (`registry/repo`), as cosign names the subject. */
export function inTotoStatement(subject: Descriptor, name: string, predicateType: string, predicate: unknown): Buffer {
  const { algorithm, hex } = parseDigest(subject.digest);
  const statement: Statement = { _type: IN_TOTO_STATEMENT_V1, subject: [{ name, digest: { [algorithm]: hex } }], predicateType, predicate };
  return Buffer.from(JSON.stringify(statement));
}

/** The statement inside a DSSE payload, or undefined when the payload is not one. */
export function parseStatement(payload: Buffer): Statement | undefined {
  try {
    const st = JSON.parse(payload.toString('utf8')) as Statement;
    return st && typeof st._type === 'string' && typeof st.predicateType === 'string' && Array.isArray(st.subject) ? st : undefined;
  } catch {
    return undefined;
  }
}
