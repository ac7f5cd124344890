/**
 * Who asked, from each kind of caller (issue 16 part 1): the Node client's default label is its
 * script's file name, RUNWARE_LABEL overrides it; the CLI says `runware <verb>` unless `--label`
 * names it; a bad `--label` is a usage error. A refused batch takes no label slot.
 */
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { AcceptedTask } from "../../src/upstream/options.js";
import { Cleanup } from "../helpers/cleanup.js";
import { runCli } from "../helpers/cli.js";
import { childEnv, CLI_MAIN, postTasks, startRig, tempDir, type DaemonRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const CLIENT = pathToFileURL(join(CLI_MAIN, "../../client/index.js")).href;

function labels(rig: DaemonRig): string[] {
  const seen: string[] = [];
  rig.daemon.engine.on("accepted", (t: AcceptedTask) => seen.push(t.label));
  return seen;
}

/** Runs a script that uses the client to run one image task; resolves with its exit code. */
function runScript(dir: string, name: string, socket: string, env: Record<string, string> = {}): Promise<number | null> {
  const file = join(dir, name);
  writeFileSync(
    file,
    `import { connect } from ${JSON.stringify(CLIENT)};\n` +
      `const r = await connect({ socket: ${JSON.stringify(socket)} }).run([{ taskType: "imageInference", model: "runware:101@1", positivePrompt: "a fox", width: 512, height: 512 }]);\n` +
      `process.exit(r.data.length === 1 ? 0 : 1);\n`,
  );
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { env: childEnv(env), stdio: "ignore" });
    child.once("close", (code) => resolve(code));
  });
}

describe("labels - each caller", () => {
  it("labels - the Node client names itself by its script's file name, RUNWARE_LABEL overrides it", async () => {
    const rig = await startRig(cleanup);
    const seen = labels(rig);
    const dir = tempDir(cleanup);
    expect(await runScript(dir, "nightly-batch.mjs", rig.socketPath)).toBe(0);
    expect(await runScript(dir, "other.mjs", rig.socketPath, { RUNWARE_LABEL: "team-render" })).toBe(0);
    expect(seen).toEqual(["nightly-batch.mjs", "team-render"]);
  });

  it("labels - the CLI says runware <verb> unless --label names it; a bad --label is exit 2 and sends nothing", async () => {
    const rig = await startRig(cleanup);
    const seen = labels(rig);
    const task = ["model=runware:101@1", "positivePrompt=a fox", "width:=512", "height:=512"];
    const plain = await runCli(cleanup, ["run", "imageInference", "--socket", rig.socketPath, ...task]);
    expect(plain.code, plain.stderr).toBe(0);
    expect((await runCli(cleanup, ["run", "imageInference", "--socket", rig.socketPath, "--label", "my-job", ...task])).code).toBe(0);
    const bad = await runCli(cleanup, ["run", "imageInference", "--socket", rig.socketPath, "--label", "x".repeat(65), ...task]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--label");
    expect(seen).toEqual(["runware run", "my-job"]);
  });

  it("labels - a batch refused for its size takes no label slot", async () => {
    const rig = await startRig(cleanup, { settings: { maxLabels: 2, maxQueued: 2 } }); // unlabelled + one
    const big = await postTasks(rig.socketPath, [imageTask(), imageTask(), imageTask()], { "runware-label": "too-big" });
    expect(big.status).toBe(413);
    const next = await postTasks(rig.socketPath, [imageTask()], { "runware-label": "next" });
    expect(next.status).toBe(200);
  });
});
