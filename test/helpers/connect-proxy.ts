import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/**
 * A tiny forward proxy for HTTPS_PROXY tests: answers CONNECT host:port by opening a TCP tunnel (it never sees
 * the TLS inside), and records each tunnel and the Proxy-Authorization it was given. `requireAuth` refuses
 * tunnels without that exact header with 407. `routes` sends tunnels for a host name (any port) to a loopback
 * `host:port` instead, so a test can reach a local stand-in under a real registry's name (`europe-docker.pkg.dev`)
 * without DNS; it is read at each CONNECT, so entries may be added after the start.
 */
export interface ConnectProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `host:port` of every CONNECT, in order. */
  tunnels: string[];
  proxyAuthorizations: (string | undefined)[];
  stop(): Promise<void>;
}

export async function startConnectProxy(options: { requireAuth?: string; routes?: Record<string, string> } = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const proxyAuthorizations: (string | undefined)[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => {
    res.writeHead(405).end(); // only tunnels are offered
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    tunnels.push(req.url ?? '');
    proxyAuthorizations.push(req.headers['proxy-authorization']);
    if (options.requireAuth !== undefined && req.headers['proxy-authorization'] !== options.requireAuth) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [name, requestedPort] = (req.url ?? '').split(':');
    const [host, port] = options.routes?.[name ?? '']?.split(':') ?? [name, requestedPort];
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    proxyAuthorizations,
    stop: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
