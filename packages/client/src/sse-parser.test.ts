import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SseParser } from "./sse-parser.ts";

describe("SseParser", () => {
  it("parses events with event, data and id fields", () => {
    const parser = new SseParser();
    const out = parser.push('event: status\nid: 1\ndata: {"a":1}\n\n');
    assert.deepEqual(out, [{ event: "status", data: '{"a":1}', id: "1", retry: undefined }]);
  });

  it("joins multi-line data and defaults the event name to message", () => {
    const out = new SseParser().push("data: one\ndata: two\n\n");
    assert.deepEqual(out, [{ event: "message", data: "one\ntwo", id: undefined, retry: undefined }]);
  });

  it("handles any chunking, including a CRLF split across chunks", () => {
    const text = "event: a\r\ndata: x\r\n\r\nevent: b\rdata: y\r\rdata: z\n\n";
    for (let size = 1; size <= text.length; size++) {
      const parser = new SseParser();
      const out = [];
      for (let i = 0; i < text.length; i += size) out.push(...parser.push(text.slice(i, i + size)));
      assert.deepEqual(
        out.map((m) => [m.event, m.data]),
        [
          ["a", "x"],
          ["b", "y"],
          ["message", "z"],
        ],
        `chunk size ${size}`,
      );
    }
  });

  it("ignores comments and events without data, keeps the last id", () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push(": keep-alive\n\nid: 7\n\n"), []);
    const [m] = parser.push("data:no-space\nretry: 500\n\n");
    assert.equal(m?.data, "no-space");
    assert.equal(m?.id, "7");
    assert.equal(m?.retry, 500);
  });

  it("drops an unterminated event at end of stream", () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push("data: partial\n"), []);
    parser.end();
    assert.deepEqual(parser.push("\n"), []);
  });
});
