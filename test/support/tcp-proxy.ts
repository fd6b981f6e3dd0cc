import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/**
 * A TCP proxy in front of a real server (PostgreSQL), so that a test can take the server away from
 * one client process without touching anyone else's connections: `cut()` resets every proxied
 * connection (what a server crash or restart does to its clients), `refuse()` also stops accepting
 * (the server is down: connection refused), `accept()` listens again on the same port (it is back).
 */
export interface TcpProxy {
  port: number;
  /** How many client connections are proxied right now. */
  readonly open: number;
  /** Resets every proxied connection (RST to the client, FIN to the server). */
  cut(): void;
  /** Cuts every connection and closes the listening socket: new connections are refused. */
  refuse(): Promise<void>;
  /** Listens again on the same port. */
  accept(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; server: Socket }>();
  let server: Server | undefined;
  let port = 0;

  const onConnection = (client: Socket) => {
    const upstream = tcpConnect(target.port, target.host);
    const pair = { client, server: upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const address = s.address();
        port = typeof address === 'object' && address ? address.port : port;
        server = s;
        resolve();
      });
    });

  const cut = () => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      pair.client.resetAndDestroy();
      pair.server.destroy();
    }
  };

  const refuse = async () => {
    const s = server;
    server = undefined;
    cut();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    get open() {
      return pairs.size;
    },
    cut,
    refuse,
    accept: async () => {
      if (!server) await listen();
    },
    close: refuse,
  };
}
