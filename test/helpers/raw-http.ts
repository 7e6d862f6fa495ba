import { connect, type Socket } from "node:net";

/** Sends raw bytes to the server and resolves with everything it answers until it closes the socket. */
export function rawRequest(url: string, raw: string, timeoutMs = 20_000): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms; got ${Buffer.concat(chunks).toString()}`));
    }, timeoutMs);
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const body = text.slice(text.indexOf("\r\n\r\n") + 4);
      try {
        resolve({ status, body: JSON.parse(body) });
      } catch {
        resolve({ status, body });
      }
    });
    socket.write(raw);
  });
}

/** Opens a socket that never finishes its request: it sends `first`, then one more byte now and then. */
export function slowClient(url: string, first: string, dripMs: number): { socket: Socket; closed: Promise<void> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on("error", () => {});
  socket.write(first);
  const drip = setInterval(() => socket.writable && socket.write("a"), dripMs);
  const closed = new Promise<void>((resolve) =>
    socket.on("close", () => {
      clearInterval(drip);
      resolve();
    }),
  );
  return { socket, closed };
}
