/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --only throughput
 * --profile /tmp/prof`): self time per function and per file, largest first.
 * Usage: node dist/scripts/bench/profile-top.js FILE.cpuprofile [N]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const file = process.argv[2];
const topN = Number(process.argv[3] ?? 30);
if (!file) {
  process.stderr.write("usage: profile-top.js FILE.cpuprofile [N]\n");
  process.exit(2);
}
process.stdout.on("error", () => process.exit(0)); // piped into head
const prof = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));

const totalUs = prof.endTime - prof.startTime;
const shortUrl = (u: string) => u.replace(/^file:\/\/.*?\/(node_modules|dist)\//, "$1/").replace(/^node:/, "node:");
const fnKey = (n: ProfileNode) =>
  `${n.callFrame.functionName || "(anonymous)"}  ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const fileKey = (n: ProfileNode) => shortUrl(n.callFrame.url) || n.callFrame.functionName;

function table(title: string, keyOf: (n: ProfileNode) => string): void {
  const sums = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (n) sums.set(keyOf(n), (sums.get(keyOf(n)) ?? 0) + us);
  }
  const busy = [...sums.entries()].filter(([k]) => !k.startsWith("(idle)")).reduce((a, [, v]) => a + v, 0);
  process.stdout.write(`\n${title} (busy ${(busy / 1000).toFixed(0)} ms of ${(totalUs / 1000).toFixed(0)} ms profiled)\n`);
  const rows = [...sums.entries()]
    .filter(([k]) => !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN);
  for (const [k, us] of rows) {
    process.stdout.write(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${k}\n`);
  }
}

/** Coarse areas: the project's folders, each dependency, Node's HTTP/net/stream stack, the rest of Node, V8. */
function areaKey(n: ProfileNode): string {
  const url = shortUrl(n.callFrame.url);
  const fn = n.callFrame.functionName;
  if (fn === "(idle)") return fn;
  const project = /^dist\/(src|scripts)\/([^/]+)\//.exec(url);
  if (project) return `project: ${project[1]}/${project[2]}`;
  const dep = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (dep) return `dependency: ${dep[1]}`;
  if (
    /^node:(_http|net|internal\/(streams|stream_base_commons|http))/.test(url) ||
    fn === "writev" ||
    fn === "writeUtf8String" ||
    fn === "writeLatin1String"
  ) {
    return fn === "writev" || fn.startsWith("write")
      ? "node: socket writes (syscall; includes time descheduled)"
      : "node: http/net/streams (JS)";
  }
  if (url.startsWith("node:")) return "node: other internals";
  if (fn === "(garbage collector)") return "V8: garbage collector";
  if (fn === "(program)") return "V8/native: (program)";
  if (fn === "parse" || fn === "stringify") return `V8: JSON.${fn}`;
  return `native: ${fn || "(anonymous)"}`;
}

table("self time by function", fnKey);
table("self time by area", areaKey);
table("self time by file", fileKey);
