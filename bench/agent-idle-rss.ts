import { parseArgs } from "node:util";
import { runAgentIdleRss } from "./lib/agent-idle-rss.ts";
import { Children } from "./lib/children.ts";

/**
 * `npx node bench/agent-idle-rss.ts [--seconds 5] [--jobs 10] [--runs 1]`: a real `gantry agent`
 * process, idle and connected: its RSS, its start time, and its first no-op job against the next
 * ones (cold start). Also part of `npm run bench -- --only idle`. Reported, never asserted.
 */
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    jobs: { type: "string", default: "10" },
    runs: { type: "string", default: "1" },
  },
});
const children = new Children();
process.once("exit", () => children.killAllNow());
try {
  for (let i = 0; i < Number(values.runs); i++) {
    const r = await runAgentIdleRss(children, { seconds: Number(values.seconds), jobs: Number(values.jobs) }, (s) =>
      process.stdout.write(`· ${s}\n`),
    );
    console.log(JSON.stringify(r));
  }
} finally {
  await children.stopAll();
}
