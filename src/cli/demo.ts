/**
 * `runware demo`: the whole product end to end with no key and no network. Starts the bundled
 * simulator and a daemon on a private socket, sends a batch of prompts through the daemon's local
 * API, saves the images into ./runware-demo-output/, prints their paths and the timing, and shuts
 * both down cleanly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect } from "../client/index.js";
import { Daemon } from "../local/daemon.js";
import { loadDaemonConfig } from "../local/config.js";
import { SimServer } from "../sim/index.js";
import { EXIT, int, parseClient, say, str, usage } from "./args.js";
import { CLIENT_DEFAULTS } from "./defaults.js";
import { saveImage } from "./images.js";

const PROMPTS = [
  "a lighthouse on a cliff at dusk",
  "a red fox in fresh snow",
  "a bowl of ramen, top view",
  "a paper boat on a rainy street",
  "an astronaut tending a rooftop garden",
  "a steam train crossing a stone viaduct",
  "a koi pond under cherry blossoms",
  "a neon-lit night market",
];

const USAGE = `usage: runware demo [--out DIR] [--work-ms N]
  Runs simulator + daemon + a batch of ${PROMPTS.length} prompts, no key and no network.
  --out DIR      where the images go (default ./runware-demo-output)
  --work-ms N    simulated generation time per task (default ${CLIENT_DEFAULTS.demoWorkMs})`;

export async function demo(argv: string[]): Promise<number> {
  const { values } = parseClient(argv, { out: { type: "string" }, "work-ms": { type: "string" } });
  if (values["help"]) return usage(USAGE);
  const outDir = resolve(str(values, "out") ?? "runware-demo-output");
  const workMs = int(values, "work-ms", 0) ?? CLIENT_DEFAULTS.demoWorkMs;
  const t0 = Date.now();

  const sim = await SimServer.start({ workMs });
  const dir = mkdtempSync(join(tmpdir(), "runware-demo-"));
  const socket = join(dir, "daemon.sock");
  // A throwaway key for the simulator: the demo never talks to Runware.
  const cfg = loadDaemonConfig(["--socket", socket, "--upstream", sim.url, "--max-in-flight", "4"], { RUNWARE_API_KEY: "demo-key" });
  const daemon = await Daemon.start(cfg);
  say(`runware demo: simulator on ${sim.url}, daemon on ${socket} (max 4 tasks in flight)`);

  const files: string[] = [];
  let failed = 0;
  try {
    const client = connect({ socket });
    const tasks = PROMPTS.map((p, i) => ({
      taskType: "imageInference",
      model: CLIENT_DEFAULTS.model,
      positivePrompt: p,
      width: 512,
      height: 512,
      seed: 1000 + i,
    }));
    const tStart = Date.now();
    for await (const frame of client.stream(tasks)) {
      if ("data" in frame) {
        for (const item of frame.data) {
          const path = await saveImage(item, outDir);
          if (path) files.push(path);
          say(`  [${files.length}/${tasks.length}] ${path}  (${Date.now() - tStart} ms)`);
        }
      } else if ("errors" in frame) {
        failed += frame.errors.length;
        for (const e of frame.errors) say(`  error ${e.code}: ${e.message}`);
      }
    }
    const status = await client.status();
    say(
      `runware demo: ${files.length} images in ${Date.now() - tStart} ms over one upstream connection ` +
        `(session ${status.upstream.sessionUUID}, ${sim.counters.connections} connection, ${sim.counters.auths.length} authentication)`,
    );
  } finally {
    await daemon.stop("demo finished");
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const f of files) process.stdout.write(`${f}\n`);
  say(`runware demo: done in ${Date.now() - t0} ms; images in ${outDir}`);
  return failed > 0 || files.length !== PROMPTS.length ? EXIT.errors : EXIT.ok;
}
