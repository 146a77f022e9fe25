import { isIP } from 'node:net';

/** `localhost`, `127.x.x.x` or `::1`, with or without a port: a host where plain HTTP never leaves the machine. */
export function isLoopback(host: string): boolean {
  const name = hostName(host);
  return name === 'localhost' || name === '::1' || (isIP(name) === 4 && name.startsWith('127.'));
}

function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}
