import { handler, newCommand, withRuntime } from '../command.js';

/** `logout REGISTRY`: remove the stored credentials (through the credential helper when one is configured). */
export function logoutCommand() {
  return newCommand('logout')
    .argument('<registry>', 'registry host, e.g. ghcr.io')
    .action(handler(async (registry, _flags, cmd) => {
      const { parseRegistryHost } = await import('../../ops/login.js');
      const { logout } = await import('../../ops/logout.js');
      const host = parseRegistryHost(registry);
      return withRuntime({ ...cmd.optsWithGlobals(), creds: undefined, passwordStdin: undefined }, async ({ reporter }) => {
        const { removed, where } = await logout({ registry: host });
        if (removed) reporter.success(`Removed login credentials for ${host.registry} from ${where}`);
        else reporter.notice(`Not logged in to ${host.registry}`);
        return 0;
      });
    }));
}
