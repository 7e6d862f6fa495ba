/**
 * The agent's `capabilities` frame (what it offers changed while connected): applied at once to the
 * dispatch index and the agent's record; an oversized or malformed one is refused and changes nothing.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { AGENT_CAPABILITIES_MAX, type AgentToServer, type AgentView } from "@gantry/protocol";
import { type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer | undefined;
after(async () => t?.close());

async function capabilitiesOf(agentId: string): Promise<string[]> {
  const { body } = await t!.api.call("GET", "/v1/agents");
  return (body.agents as AgentView[]).find((a) => a.id === agentId)!.capabilities;
}

test("a capabilities frame replaces the offer on the same link; jobs of a withdrawn capability are no longer pushed", async () => {
  t = await testServer();
  const agent = await t.agent({ capabilities: ["llm.a", "llm.b"] });
  await agent.connect();
  agent.send({ type: "capabilities", capabilities: ["llm.b[ctx:256]"] });
  agent.startHeartbeats(100);
  // The frame is handled in order with the heartbeats after it: once one is acked, it has applied.
  await agent.next((m) => m.type === "heartbeat:ack");
  assert.deepEqual(await capabilitiesOf(agent.agentId), ["llm.b[ctx:256]"]);
  const a = await t.api.submit({ capability: "llm.a", payload: {} });
  const b = await t.api.submit({ capability: "llm.b", payload: {} });
  const pushed = await agent.nextJob();
  assert.equal(pushed.id, b.id, "only the capability still offered is pushed");
  assert.equal((await t.api.get(a.id)).status, "queued");
  agent.stopHeartbeats();
});

test("an oversized or malformed capabilities frame is refused with agent_protocol_error and changes nothing", async () => {
  const agent = await t!.agent({ capabilities: ["llm.keep"] });
  await agent.connect();
  const bad: unknown[] = [
    { type: "capabilities", capabilities: Array.from({ length: AGENT_CAPABILITIES_MAX + 1 }, (_, i) => `c.${i}`) },
    { type: "capabilities", capabilities: [`llm.${"x".repeat(300)}`] },
    { type: "capabilities", capabilities: ["bad[unclosed"] },
    { type: "capabilities" },
  ];
  for (const frame of bad) {
    agent.send(frame as AgentToServer);
    const reply = await agent.next((m) => m.type === "error");
    assert.equal(reply.type === "error" && reply.error.code, "agent_protocol_error");
    agent.received.length = 0;
  }
  assert.deepEqual(await capabilitiesOf(agent.agentId), ["llm.keep"]);
});
