/**
 * `runware demo`: the whole product end to end with no key and no network. Starts the bundled
 * simulator and a daemon on a private socket, sends a batch of prompts and one short video through
 * the daemon's local API (the video as simply as an image: the daemon sends it async and polls),
 * saves the files into ./runware-demo-output/, prints their paths and the timing, and shuts both
 * down cleanly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect, isProgress } from "../client/index.js";
import { Daemon } from "../local/daemon.js";
import { loadDaemonConfig } from "../local/config.js";
import { SIM_DEFAULTS, SimServer } from "../sim/index.js";
import { EXIT, int, parseClient, say, str, usage } from "./args.js";
import { CLIENT_DEFAULTS } from "./defaults.js";
import { Saver } from "./save.js";

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

/** The demo's video renders this many times an image's work time. */
const VIDEO_WORK_FACTOR = 5;

const USAGE = `usage: runware demo [--out DIR] [--work-ms N]
  Runs simulator + daemon + a batch of ${PROMPTS.length} prompts and one short video, no key and no network.
  --out DIR      where the files go (default ./runware-demo-output)
  --work-ms N    simulated generation time per task (default ${CLIENT_DEFAULTS.demoWorkMs})`;

export async function demo(argv: string[]): Promise<number> {
  const { values } = parseClient(argv, { out: { type: "string" }, "work-ms": { type: "string" } });
  if (values["help"]) return usage(USAGE);
  const outDir = resolve(str(values, "out") ?? "runware-demo-output");
  const workMs = int(values, "work-ms", 0) ?? CLIENT_DEFAULTS.demoWorkMs;
  const t0 = Date.now();

  // The video renders in VIDEO_WORK_FACTOR x workMs instead of a minute.
  const sim = await SimServer.start({ workMs, timeScale: (VIDEO_WORK_FACTOR * workMs) / SIM_DEFAULTS.videoRenderMs });
  const dir = mkdtempSync(join(tmpdir(), "runware-demo-"));
  const socket = join(dir, "daemon.sock");
  // A throwaway key for the simulator: the demo never talks to Runware.
  // A throwaway daemon: no journal (nothing to recover; nothing left in ~/.local/state).
  const cfg = loadDaemonConfig(["--socket", socket, "--upstream", sim.url, "--max-in-flight", "4", "--no-journal"], {
    RUNWARE_API_KEY: "demo-key",
  });
  // The demo's render is seconds long, not minutes: polled every 0.5 s instead of 5 s.
  const daemon = await Daemon.start({ ...cfg, pollMaxMs: 500 });
  say(`runware demo: simulator on ${sim.url}, daemon on ${socket} (max 4 tasks in flight)`);

  const files: string[] = [];
  let videos = 0;
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
    const video = {
      taskType: "videoInference",
      model: "klingai:5@3",
      positivePrompt: "waves rolling onto a beach",
      duration: 5,
      width: 1280,
      height: 720,
    };
    const tStart = Date.now();
    const total = tasks.length + 1;
    const saver = new Saver(outDir);
    for await (const frame of client.stream([video, ...tasks])) {
      if ("data" in frame) {
        for (const item of frame.data) {
          if (isProgress(item)) {
            say(`  [video] rendering: ${String(item["progress"])} %`);
            continue;
          }
          const saved = await saver.save(item);
          const path = (saved["savedFiles"] as string[] | undefined)?.[0];
          if (path) files.push(path);
          for (const e of (saved["saveErrors"] as Array<{ message: string }> | undefined) ?? []) {
            failed++;
            say(`  not saved: ${e.message}`);
          }
          if (path && typeof item["videoURL"] === "string") videos++;
          say(`  [${files.length}/${total}] ${path}  (${Date.now() - tStart} ms)`);
        }
      } else if ("errors" in frame) {
        failed += frame.errors.length;
        for (const e of frame.errors) say(`  error ${e.code}: ${e.message}`);
      }
    }
    const status = await client.status();
    say(
      `runware demo: ${files.length - videos} images and ${videos} video in ${Date.now() - tStart} ms over one upstream connection ` +
        `(session ${status.upstream.sessionUUID}, ${sim.counters.connections} connection, ${sim.counters.auths.length} authentication)`,
    );
  } finally {
    await daemon.stop("demo finished");
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const f of files) process.stdout.write(`${f}\n`);
  say(`runware demo: done in ${Date.now() - t0} ms; files in ${outDir}`);
  return failed > 0 || files.length !== PROMPTS.length + 1 ? EXIT.errors : EXIT.ok;
}
