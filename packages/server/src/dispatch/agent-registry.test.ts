import assert from "node:assert/strict";
import { test } from "node:test";
import { PollAgentLink } from "../agents/poll-agent-link.ts";
import { AgentRegistry } from "./agent-registry.ts";

function link(agentId: string, caps: string[]): PollAgentLink {
  const l = new PollAgentLink(agentId);
  l.capabilities = new Set(caps);
  return l;
}

test("registry: an older link never replaces a newer one of the same agent", () => {
  const r = new AgentRegistry();
  const older = link("a", ["x"]);
  const newer = link("a", ["x"]);
  assert.equal(r.add(newer), undefined);
  assert.equal(r.add(older), "newer", "a slow hello on the old socket loses");
  assert.equal(r.get("a"), newer);
  assert.deepEqual([...r.linksFor("x")], [newer]);
});

test("registry: a profile update re-indexes only the current link", () => {
  const r = new AgentRegistry();
  const older = link("a", ["x"]);
  r.add(older);
  const newer = link("a", ["x"]);
  assert.equal(r.add(newer), older);
  // An update command read the old link before the reconnect, and applies its profile now.
  r.update(older, { capabilities: new Set(["y"]), tier: 3, capacity: 2 });
  assert.equal(r.get("a"), newer);
  assert.deepEqual([...r.linksFor("y")], [], "the old link is not put back in the index");
  assert.deepEqual([...r.linksFor("x")], [newer]);
  r.update(newer, { capabilities: new Set(["y"]), tier: 3, capacity: 2 });
  assert.deepEqual([...r.linksFor("y")], [newer]);
  assert.deepEqual([...r.linksFor("x")], []);
});
