import { resolveToken } from "../credentials.ts";
import type { GantryClient } from "../gantry-client.ts";
import type { JobWatcher } from "../job-watcher.ts";
import type { JobSignal, UpdateSource } from "./update-source.ts";

/** Job updates over the client WebSocket (`/v1/events/ws`), through one JobWatcher. */
export class WsSource implements UpdateSource {
  readonly kind = "ws";
  readonly #watcher: JobWatcher;

  private constructor(watcher: JobWatcher) {
    this.#watcher = watcher;
  }

  /** Opens the socket once to see that it works (a proxy may refuse upgrades), then keeps a watcher. */
  static async connect(client: GantryClient, WS: typeof WebSocket, timeoutMs: number): Promise<WsSource> {
    const token = await resolveToken(client.credential);
    const url = `${client.url.replace(/^http/, "ws")}/v1/events/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`;
    await new Promise<void>((resolve, reject) => {
      const ws = new WS(url);
      const timer = setTimeout(() => done(new Error("WebSocket did not open in time")), timeoutMs);
      let settled = false;
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.close();
        if (err) reject(err);
        else resolve();
      };
      ws.addEventListener("message", () => done());
      ws.addEventListener("error", () => done(new Error("WebSocket failed")));
      ws.addEventListener("close", () => done(new Error("WebSocket closed")));
    });
    return new WsSource(client.watcher({ WebSocket: WS }));
  }

  watch(jobId: string, onSignal: (s: JobSignal) => void): Promise<() => void> {
    return new Promise((resolve, reject) => {
      let subId = "";
      const off = this.#watcher.on("watcher:subscription:confirmed", ({ jobIds, missing }) => {
        if (missing.includes(jobId)) {
          off();
          this.#watcher.unsubscribe(subId);
          reject(new Error(`job ${jobId} not found`));
        } else if (jobIds.includes(jobId)) {
          off();
          resolve(() => this.#watcher.unsubscribe(subId));
        }
      });
      subId = this.#watcher.subscribe([jobId], {
        onEvent: (e) => {
          if (e.type === "status") onSignal({ kind: "status", status: e.status });
          else if (e.type === "progress") onSignal({ kind: "progress", progress: e.progress });
          else if (e.type === "tokens")
            onSignal({ kind: "tokens", tokens: { epoch: e.epoch, seq: e.seq, text: e.text } });
          else onSignal({ kind: "other" });
        },
        onError: (err) => {
          off();
          reject(err);
        },
      });
    });
  }

  close(): void {
    this.#watcher.close();
  }
}
