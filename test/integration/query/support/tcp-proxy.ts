import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy the test can cut and restore, to take MongoDB away from one query service without
 * touching the shared server, or slow its answers down.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** How late MongoDB's answers arrive; set it once, from 0 (a smaller delay later could reorder). */
  delayMs = 0;

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      // Answers reach the client `delayMs` late (the same delay for each, so in order).
      upstream.on('data', (chunk: Buffer) => {
        if (this.delayMs <= 0) client.write(chunk);
        else setTimeout(() => client.write(chunk), this.delayMs);
      });
      upstream.on('end', () => {
        if (this.delayMs <= 0) client.end();
        else setTimeout(() => client.end(), this.delayMs);
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** Refuses new connections and drops the open ones, as a MongoDB that went away. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
