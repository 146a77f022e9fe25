import { appendFile } from 'node:fs/promises';

export interface CiFacts {
  url: string;
  digest: string;
  reference?: string;
  source?: string;
  revision?: string;
  signatures?: string;
}

/**
 * GitHub Actions: append a Markdown summary to $GITHUB_STEP_SUMMARY and set `digest`/`url` step outputs in
 * $GITHUB_OUTPUT. Nothing happens outside GitHub Actions.
 */
export async function reportCi(command: string, facts: CiFacts, env: Record<string, string | undefined> = process.env): Promise<void> {
  if (env.GITHUB_ACTIONS !== 'true') return;
  if (env.GITHUB_OUTPUT) {
    await appendFile(env.GITHUB_OUTPUT, `digest=${facts.digest}\nurl=${facts.url}\n`);
  }
  if (env.GITHUB_STEP_SUMMARY) {
    const rows = [
      ['Artifact', `\`${facts.reference ?? facts.url}\``],
      ['Digest', `\`${facts.digest}\``],
      ...(facts.source ? [['Source', facts.source]] : []),
      ...(facts.revision ? [['Revision', `\`${facts.revision}\``]] : []),
      ...(facts.signatures ? [['Signatures', facts.signatures]] : []),
    ];
    const table = ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
    await appendFile(env.GITHUB_STEP_SUMMARY, `### oci-artifact ${command}\n\n${table}\n\n`);
  }
}
