import { createServer, type Server } from "node:net";
import { Duplex } from "node:stream";
import { GantryError, jobIdOfTopic, MQTT_MAX_PACKET_BYTES } from "@gantry/protocol";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import type { LiveStreams } from "../auth/live-streams.ts";
import type { Principal, Principals } from "../auth/principals.ts";
import type { Store } from "../store/store.ts";
import { maySubscribe } from "./mqtt-acl.ts";
import { MqttFrameGuard } from "./mqtt-frame-guard.ts";
import type { MqttSink } from "./mqtt-sink.ts";

export interface EmbeddedBrokerDeps {
  store: Store;
  principals: Principals;
  /** Counts each session against its credential's connection limit and ends it when the credential ends. */
  streams: LiveStreams;
  /** With no-auth, the principal a client without credentials gets. */
  anonymous: Principal | undefined;
  /** The snapshot a subscriber to a finished job gets: its terminal status message, or undefined. */
  terminalMessage(jobId: string): Promise<string | undefined>;
  onError(err: unknown, msg: string): void;
}

/** CONNACK return codes (MQTT 3.1.1). */
const SERVER_UNAVAILABLE = 3;
const BAD_CREDENTIALS = 4;

/** Per connection: who it is, and how to give back its slot in LiveStreams once it is gone. */
interface Session {
  principal?: Principal;
  release?: () => void;
  gone?: boolean;
}

/**
 * The embedded aedes broker. Clients log in with an API key or user JWT as password (the username is
 * ignored; a bare credential as username also works), may publish nothing, and may subscribe only to
 * what mqtt-acl allows. Job topics are not retained here (that would hold a message per job
 * forever); instead a subscriber to a finished job is sent its terminal status at once.
 *
 * Each session is a live connection of its credential (LiveStreams): it counts against the
 * credential's connection limit, and is closed when the key is revoked or expires, the user logs
 * out or is deactivated, or the access token used as password reaches its `exp` (an MQTT session
 * cannot present a renewed token; the client reconnects with a fresh one). Revocations on another
 * replica arrive over the cluster bus. Every SUBSCRIBE re-checks the credential in the store first.
 */
export class EmbeddedBroker implements MqttSink {
  readonly #broker: Aedes;
  readonly #sessions: WeakMap<Client, Session>;
  #tcp: Server | undefined;

  private constructor(broker: Aedes, sessions: WeakMap<Client, Session>) {
    this.#broker = broker;
    this.#sessions = sessions;
  }

  static async start(deps: EmbeddedBrokerDeps): Promise<EmbeddedBroker> {
    const sessions = new WeakMap<Client, Session>();
    const sessionOf = (client: Client): Session => {
      const s = sessions.get(client) ?? {};
      sessions.set(client, s);
      return s;
    };
    const broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const credential = password?.toString() || username;
        const refuse = (code = BAD_CREDENTIALS) => {
          const err = new Error("bad credential") as AuthenticateError;
          err.returnCode = code as AuthenticateError["returnCode"];
          done(err, false);
        };
        const accept = (p: Principal) => {
          const session = sessionOf(client);
          if (session.gone) return refuse();
          try {
            session.release = deps.streams.open(p, () => client.close(), { endAtExpiry: true });
          } catch (err) {
            if (!(err instanceof GantryError)) deps.onError(err, "MQTT connection limit failed");
            return refuse(SERVER_UNAVAILABLE);
          }
          session.principal = p;
          done(null, true);
        };
        if (!credential) {
          if (!deps.anonymous) return refuse();
          return accept(deps.anonymous);
        }
        deps.principals.fromBearer(credential).then(accept, (err) => {
          if (!(err instanceof GantryError)) deps.onError(err, "MQTT authentication failed");
          refuse();
        });
      },
      authorizePublish: (_client, _packet, cb) => cb(new Error("clients may not publish")),
      authorizeSubscribe: (client, sub, cb) => {
        const p = sessions.get(client)?.principal;
        if (!p) return cb(null, null);
        // The credential as it is now, not as it was at CONNECT: a revoked key subscribes to nothing
        // even in the moments before its session is closed.
        deps.principals
          .stillValid(p)
          .then(async (valid) => {
            if (!valid) {
              client.close();
              return false;
            }
            return maySubscribe(deps.store, p, sub.topic);
          })
          .then(
            (ok) => cb(null, ok ? sub : null),
            (err) => {
              deps.onError(err, "MQTT subscribe check failed");
              cb(null, null);
            },
          );
      },
    });
    const self = new EmbeddedBroker(broker, sessions);
    broker.on("subscribe", (subs, client) => {
      for (const s of subs) {
        const jobId = jobIdOfTopic(s.topic);
        if (!jobId) continue;
        deps.terminalMessage(jobId).then(
          (payload) => {
            if (payload !== undefined && !client.closed)
              client.publish(
                { cmd: "publish", topic: s.topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
                () => {},
              );
          },
          (err) => deps.onError(err, "MQTT snapshot failed"),
        );
      }
    });
    return self;
  }

  /** Serves one MQTT connection (a TCP socket, or a WebSocket as a stream), bounded by MqttFrameGuard. */
  handle(stream: Duplex): void {
    const guard = new MqttFrameGuard(MQTT_MAX_PACKET_BYTES);
    stream.pipe(guard);
    guard.on("error", () => stream.destroy());
    stream.on("close", () => guard.destroy());
    stream.on("error", () => guard.destroy());
    // aedes reads the guarded bytes and writes straight to the connection.
    const client = this.#broker.handle(Duplex.from({ readable: guard, writable: stream }));
    stream.once("close", () => {
      const session = this.#sessions.get(client) ?? {};
      session.gone = true;
      session.release?.();
      this.#sessions.set(client, session);
    });
  }

  /** MQTT over TCP on `port` (0: a free one); resolves with the bound port. */
  listenTcp(port: number, host: string): Promise<number> {
    const tcp = createServer((socket) => this.handle(socket));
    this.#tcp = tcp;
    return new Promise((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(port, host, () => {
        const a = tcp.address();
        resolve(typeof a === "object" && a ? a.port : port);
      });
    });
  }

  get connectedClients(): number {
    return this.#broker.connectedClients;
  }

  publish(topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean }): void {
    this.#broker.publish(
      { cmd: "publish", topic, payload: Buffer.from(payload), qos: opts.qos, retain: opts.retain, dup: false },
      () => {},
    );
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.#broker.close(() => r()));
    const tcp = this.#tcp;
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }
}
