import { parseRegistryHost, removeLogin } from '../../registry/login.js';
import { createRuntime, type GlobalFlags } from '../options.js';

/** `logout REGISTRY`: remove the stored credentials (through the credential helper when one is configured). */
export async function run(args: string[], _flags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const host = parseRegistryHost(args[0] as string);
  const runtime = await createRuntime({ ...globals, creds: undefined, passwordStdin: false });
  try {
    const { removed, where } = await removeLogin(host);
    if (removed) runtime.reporter.success(`Removed login credentials for ${host.registry} from ${where}`);
    else runtime.reporter.notice(`Not logged in to ${host.registry}`);
    return 0;
  } finally {
    runtime.dispose();
  }
}
