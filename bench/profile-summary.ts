import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * `npx node bench/profile-summary.ts <file.cpuprofile | dir> [top] [--callers NAME]`: self and total
 * time per function of a V8 CPU profile (from `npm run bench -- --server-prof DIR`), to find where
 * the server spends CPU; `--callers NAME` shows the call chains that lead to function NAME.
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

function label(n: Node): string {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|packages)\//, "$1/");
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
}

function summarize(file: string, top: number): void {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfMs = new Map<number, number>();
  p.samples.forEach((id, i) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  const total = [...selfMs.values()].reduce((s, x) => s + x, 0);
  const idle = [...selfMs]
    .filter(([id]) => byId.get(id)!.callFrame.functionName === "(idle)")
    .reduce((s, [, v]) => s + v, 0);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const n = byId.get(id)!;
    self.set(label(n), (self.get(label(n)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + ms);
    }
  }
  const busy = total - idle;
  const pct = (ms: number) => `${((ms / busy) * 100).toFixed(1).padStart(5)}%`;
  console.log(
    `\n${file}\n  sampled ${(total / 1000).toFixed(2)} s, busy ${(busy / 1000).toFixed(2)} s (percentages of busy time)`,
  );
  console.log("  self:");
  for (const [l, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`   ${pct(ms)}  ${l}`);
  console.log("  total (inclusive):");
  for (const [l, ms] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`   ${pct(ms)}  ${l}`);
}

function callers(file: string, name: string): void {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfMs = new Map<number, number>();
  p.samples.forEach((id, i) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  const inclusive = (id: number): number =>
    (selfMs.get(id) ?? 0) + (byId.get(id)!.children ?? []).reduce((s, c) => s + inclusive(c), 0);
  const chains = new Map<string, number>();
  for (const n of p.nodes) {
    if (n.callFrame.functionName !== name) continue;
    const chain: string[] = [];
    for (let cur = parent.get(n.id), k = 0; cur !== undefined && k < 6; cur = parent.get(cur), k++) {
      const f = byId.get(cur)!.callFrame;
      chain.push(`${f.functionName || "(anonymous)"}@${f.url.split("/").pop()}:${f.lineNumber + 1}`);
    }
    const key = chain.join(" < ");
    chains.set(key, (chains.get(key) ?? 0) + inclusive(n.id));
  }
  console.log(`\n${file}: callers of ${name}`);
  for (const [k, ms] of [...chains].sort((a, b) => b[1] - a[1]).slice(0, 10))
    console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${k}`);
}

const args = process.argv.slice(2);
const ci = args.indexOf("--callers");
const callersOf = ci === -1 ? undefined : args.splice(ci, 2)[1];
const target = args[0];
const top = Number(args[1] ?? 25);
if (!target) {
  console.error("usage: profile-summary.ts <file.cpuprofile | dir> [top]");
  process.exit(2);
}
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => join(target, f))
  : [target];
for (const f of files) {
  if (callersOf) callers(f, callersOf);
  else summarize(f, top);
}
