import assert from "node:assert/strict";
import { test } from "node:test";
import { parseServerUrls, ServerList, sameCluster } from "./server-list.ts";

test("server list: comma-separated, trimmed, deduplicated; next() goes round", () => {
  assert.deepEqual(parseServerUrls(" http://a:1 ,http://b:2,,http://a:1"), ["http://a:1", "http://b:2"]);
  const list = new ServerList("http://a:1,http://b:2");
  assert.equal(list.current, "http://a:1");
  assert.equal(list.next(), "http://b:2");
  assert.equal(list.next(), "http://a:1");
  const one = new ServerList("http://a:1");
  assert.equal(one.next(), "http://a:1");
});

test("server list: refuses an empty list, a bad URL and mixed schemes", () => {
  assert.throws(() => new ServerList(" , "), /no server URL/);
  assert.throws(() => new ServerList("not a url"));
  assert.throws(() => new ServerList("http://a,https://b"), /one scheme/);
});

test("server list: specs sharing a URL are the same cluster", () => {
  assert.equal(sameCluster("http://a,http://b", "http://b"), true);
  assert.equal(sameCluster("http://a", "http://c"), false);
  assert.equal(sameCluster(undefined, "http://c"), false);
});
