import { parseArgs } from "node:util";
import { Children } from "./lib/children.ts";
import { renderMedia, runMedia } from "./lib/media-gantry.ts";

/**
 * `npx node bench/media-gantry-bench.ts [images] [capacity] [runs] [--prefetch N] [--server-prof DIR] [--agent-prof DIR]`: `image_conversion`,
 * `media_thumbnail` and `hash` through a server process and a real agent process against sharp
 * directly at the same concurrency (see bench/lib/media-gantry.ts for what is compared). Also
 * `npm run bench -- --only media`. Reported, never asserted.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "server-prof": { type: "string" },
    "agent-prof": { type: "string" },
    prefetch: { type: "string" },
  },
});
const children = new Children();
process.once("exit", () => children.killAllNow());
try {
  const r = await runMedia(
    children,
    {
      images: Number(positionals[0] ?? 100),
      capacity: Number(positionals[1] ?? 2),
      prefetch: Number(values.prefetch ?? positionals[1] ?? 2),
      runs: Number(positionals[2] ?? 3),
      serverProfDir: values["server-prof"],
      agentProfDir: values["agent-prof"],
    },
    (s) => process.stdout.write(`· ${s}\n`),
  );
  console.log(renderMedia(r));
} finally {
  await children.stopAll();
}
