import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * One loopback address in front of several servers, as a load balancer is: each new connection goes
 * to the next backend in turn, skipping any that refuses. Agents given its URL reconnect through it
 * to a live replica when theirs dies.
 */
export class TcpProxy {
  readonly #backends: number[];
  readonly #sockets = new Set<Socket>();
  #next = 0;
  #server: Server | undefined;
  port = 0;

  constructor(backendPorts: number[]) {
    this.#backends = backendPorts;
  }

  async start(): Promise<string> {
    this.#server = createServer((client) => this.#route(client, 0));
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return `http://127.0.0.1:${this.port}`;
  }

  #route(client: Socket, tried: number): void {
    if (tried >= this.#backends.length) {
      client.destroy();
      return;
    }
    const port = this.#backends[this.#next++ % this.#backends.length]!;
    client.pause();
    const upstream = connect(port, "127.0.0.1");
    upstream.once("connect", () => {
      this.#sockets.add(client);
      this.#sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      client.resume();
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
    });
    upstream.once("error", () => {
      if (upstream.connecting || !this.#sockets.has(upstream)) this.#route(client, tried + 1);
    });
  }

  /** Stops listening and cuts every proxied connection. */
  close(): void {
    for (const s of this.#sockets) s.destroy();
    this.#server?.close();
  }
}
