import { randomUUID } from "node:crypto";
import pg from "pg";
import { type ClusterBus, type ClusterListener, ClusterListeners, type ClusterMessage } from "./cluster-bus.ts";

/** NOTIFY payloads must stay under 8000 bytes; bigger batches are split, bigger messages go by table. */
const MAX_PAYLOAD = 7500;
const RECONNECT_MS = 500;

export interface PostgresBusOptions {
  url: string;
  /** The schema the store works in: replicas of one deployment share it, and so the channel. */
  schema?: string;
  /** Where a message too big for NOTIFY goes: a pool on the same database (and schema). */
  pool: pg.Pool;
  onError?: (err: unknown) => void;
}

type Envelope = { o: string; m?: ClusterMessage[]; ref?: number };

/**
 * The event bus across replicas: PostgreSQL LISTEN/NOTIFY on one channel per deployment (schema).
 * Published messages reach this replica's listeners at once, and the others' after a NOTIFY; a
 * turn's messages go in order, batched into as few NOTIFYs as fit, from one publisher at a time (so
 * replicas see them in the order sent). The listening connection reconnects by itself (a database
 * restart); messages sent while it is down are lost, which every receiver tolerates (see ClusterBus).
 */
export class PostgresClusterBus implements ClusterBus {
  readonly #o: PostgresBusOptions;
  readonly #origin = randomUUID();
  readonly #channel: string;
  readonly #listeners = new ClusterListeners();
  #outbox: ClusterMessage[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #scheduled = false;
  #client: pg.Client | undefined;
  #closed = false;

  private constructor(o: PostgresBusOptions) {
    this.#o = o;
    this.#channel = `gantry_bus_${(o.schema ?? "public").replace(/[^a-z0-9_]/gi, "_")}`.slice(0, 63);
    this.#listeners.onError = o.onError ?? (() => {});
  }

  static async open(o: PostgresBusOptions): Promise<PostgresClusterBus> {
    const bus = new PostgresClusterBus(o);
    await bus.#listen();
    return bus;
  }

  publish(msg: ClusterMessage): void {
    this.#listeners.deliver(msg);
    this.#outbox.push(msg);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const batch = dedupeWork(this.#outbox);
      this.#outbox = [];
      this.#flushing = this.#flushing.then(() => this.#send(batch)).catch((err) => this.#o.onError?.(err));
    });
  }

  subscribe(listener: ClusterListener): () => void {
    return this.#listeners.add(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#flushing;
    await this.#client?.end().catch(() => {});
  }

  async #send(batch: ClusterMessage[]): Promise<void> {
    let chunk: ClusterMessage[] = [];
    let size = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      await this.#notify({ o: this.#origin, m: chunk });
      chunk = [];
      size = 0;
    };
    for (const m of batch) {
      const text = JSON.stringify(m);
      if (text.length > MAX_PAYLOAD) {
        await flush();
        const { rows } = await this.#o.pool.query<{ id: number }>(
          "INSERT INTO cluster_messages (payload, created_at) VALUES ($1, $2) RETURNING id",
          [text, Date.now()],
        );
        await this.#notify({ o: this.#origin, ref: rows[0]!.id });
        // Receivers read a big message within moments; a minute later nobody will.
        await this.#o.pool.query("DELETE FROM cluster_messages WHERE created_at < $1", [Date.now() - 60_000]);
        continue;
      }
      if (size + text.length > MAX_PAYLOAD) await flush();
      chunk.push(m);
      size += text.length + 1;
    }
    await flush();
  }

  async #notify(e: Envelope): Promise<void> {
    await this.#o.pool.query("SELECT pg_notify($1, $2)", [this.#channel, JSON.stringify(e)]);
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#o.url, application_name: "gantry-server" });
    const retry = () => {
      if (this.#client !== client || this.#closed) return;
      this.#client = undefined;
      client.end().catch(() => {});
      setTimeout(() => void this.#reconnect(), RECONNECT_MS).unref();
    };
    client.on("error", retry);
    client.on("end", retry);
    client.on("notification", (n) => void this.#received(n.payload));
    await client.connect();
    await client.query(`LISTEN ${this.#channel}`);
    this.#client = client;
  }

  async #reconnect(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#listen();
    } catch {
      setTimeout(() => void this.#reconnect(), RECONNECT_MS).unref();
    }
  }

  async #received(payload: string | undefined): Promise<void> {
    if (!payload) return;
    try {
      const e = JSON.parse(payload) as Envelope;
      if (e.o === this.#origin) return;
      if (e.ref !== undefined) {
        const { rows } = await this.#o.pool.query<{ payload: string }>(
          "SELECT payload FROM cluster_messages WHERE id = $1",
          [e.ref],
        );
        if (rows[0]) this.#listeners.deliver(JSON.parse(rows[0].payload) as ClusterMessage);
        return;
      }
      for (const m of e.m ?? []) this.#listeners.deliver(m);
    } catch (err) {
      this.#o.onError?.(err);
    }
  }
}

/** One `work` hint per capability per batch is enough. */
function dedupeWork(batch: ClusterMessage[]): ClusterMessage[] {
  const seen = new Set<string>();
  return batch.filter((m) => {
    if (m.kind !== "work") return true;
    if (seen.has(m.capability)) return false;
    seen.add(m.capability);
    return true;
  });
}
