import type { AssignedJob, ErrorBody, ServerToAgent } from "@gantry/protocol";

type Of<T extends ServerToAgent["type"]> = Extract<ServerToAgent, { type: T }>;

/** What the control loop does with each kind of server message. */
export interface InboundHandlers {
  welcome(msg: Of<"welcome">): void;
  heartbeatAck(msg: Of<"heartbeat:ack">): void;
  assign(job: AssignedJob): void;
  cancel(jobId: string, epoch: number): void;
  ack(ref: number): void;
  nack(msg: Of<"nack">): void;
  token(token: string, expiresIn: number): void;
  command(jws: string): void;
  error(error: ErrorBody): void;
}

/** Routes one link's messages, in order. Both transports feed it. */
export function routeInbound(msgs: ServerToAgent[], h: InboundHandlers): void {
  for (const msg of msgs) {
    switch (msg.type) {
      case "welcome":
        h.welcome(msg);
        break;
      case "heartbeat:ack":
        h.heartbeatAck(msg);
        break;
      case "job:assign":
        h.assign(msg.job);
        break;
      case "job:cancel":
        h.cancel(msg.jobId, msg.epoch);
        break;
      case "ack":
        h.ack(msg.ref);
        break;
      case "nack":
        h.nack(msg);
        break;
      case "token":
        h.token(msg.token, msg.expiresIn);
        break;
      case "command":
        h.command(msg.jws);
        break;
      case "error":
        h.error(msg.error);
        break;
    }
  }
}
