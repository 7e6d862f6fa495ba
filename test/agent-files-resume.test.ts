import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { type Agent, startAgent } from "@gantry/agent";
import { upload } from "./helpers/files.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

/** An input download cut off mid-way is resumed with Range, and the job gets the right bytes. */

const dir = tempDir("gantry-resume-");
let t: TestServer | undefined;
let agent: Agent | undefined;
const sockets = new Set<Socket>();
const servers: Server[] = [];
after(async () => {
  await agent?.stop({ drainTimeoutMs: 0 });
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  await t?.close();
  dir.remove();
});

/**
 * A loopback TCP proxy in front of the server that, once, cuts a connection carrying an agent file
 * download after `cutAfter` bytes of the answer (a network that drops mid-transfer).
 */
async function cuttingProxy(target: URL, cutAfter: number): Promise<{ url: string; cuts: () => number }> {
  let cuts = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let download = false;
    let sent = 0;
    client.on("data", (d) => {
      if (/^GET \/v1\/agent\/jobs\/[^ ]+\/files\//.test(d.toString("latin1"))) download = true;
      upstream.write(d);
    });
    upstream.on("data", (d) => {
      if (download && cuts === 0 && sent + d.length > cutAfter) {
        client.write(d.subarray(0, cutAfter - sent));
        cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      sent += d.length;
      client.write(d);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", close).on("error", close);
    upstream.on("close", close).on("error", close);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push(server);
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, cuts: () => cuts };
}

test("an input download cut off mid-way resumes from where it broke and the hash checks out", async () => {
  t = await testServer({ heartbeatIntervalSecs: 0.5, leaseSecs: 10, sweepIntervalMs: 50, logLevel: "warn" });
  const proxy = await cuttingProxy(new URL(t.server.url), 1024 * 1024);
  agent = await startAgent({
    server: proxy.url,
    key: t.server.bootstrap.agentKey,
    configPath: join(dir.path, "agent.json"),
    dataDir: join(dir.path, "agent"),
    allowShell: true,
    metrics: false,
    statusServer: false,
    logLevel: "silent",
    print: () => {},
  });
  const bytes = randomBytes(3 * 1024 * 1024);
  const up = await upload(t.server.url, t.api.key, "big.bin", bytes);
  assert.equal(up.status, 201);
  const job = await t.api.submit({
    capability: "shell.bash",
    maxAttempts: 1,
    inputs: [{ name: "big.bin", hash: up.body.hash }],
    payload: { command: `sha256sum "$GANTRY_INPUT_DIR/big.bin" | cut -d' ' -f1` },
  });
  const done = await t.api.waitTerminal(job.id, 60_000);
  assert.equal(done.status, "completed", JSON.stringify(done.attempts));
  assert.equal(proxy.cuts(), 1, "the download was cut once");
  const logs = await t.api.call("GET", `/v1/jobs/${job.id}/logs`);
  assert.deepEqual(
    logs.body.lines.map((l: { line: string }) => l.line),
    [createHash("sha256").update(bytes).digest("hex")],
  );
});
