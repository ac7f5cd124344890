/**
 * Local files as media inputs (issue 14, client/local-files.ts) end to end: the real CLI, a daemon,
 * the simulator, whose inbound frames are tapped to see exactly what reached "Runware". A local
 * path is sent as a data URI of the file's bytes, and the path itself never leaves the machine.
 */
import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { connect, LocalFileError } from "../../src/client/index.js";
import { localPathOf } from "../../src/client/local-files.js";
import { renderImage } from "../../src/sim/render.js";
import { Cleanup } from "../helpers/cleanup.js";
import { runCli, stdoutEnvelope } from "../helpers/cli.js";
import { startRig, submissions, type DaemonRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Every task the simulator received, parsed (not the link's own pings and authentication: a ping can come first on a busy machine). */
function tapTasks(rig: DaemonRig): Array<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = [];
  const link = new Set(["ping", "authentication"]);
  cleanup.defer(
    rig.sim.tapFrames((text) => {
      for (const t of JSON.parse(text) as Array<Record<string, unknown>>) if (!link.has(t["taskType"] as string)) seen.push(t);
    }),
  );
  return seen;
}

function png(rig: DaemonRig, name: string): { path: string; bytes: Buffer } {
  const bytes = renderImage({ prompt: name, seed: 1, width: 64, height: 64 });
  const path = join(rig.dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

describe("cli - local files in", () => {
  it("local files - a PNG given as seedImage reaches the simulator as a data URI of its bytes; the path never does", async () => {
    const rig = await startRig(cleanup);
    const seen = tapTasks(rig);
    const { path, bytes } = png(rig, "seed.png");
    const r = await runCli(cleanup, [
      "run",
      "imageInference",
      "--socket",
      rig.socketPath,
      "model=runware:101@1",
      "positivePrompt=a fox",
      "width:=512",
      "height:=512",
      `seedImage=${path}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const sent = seen.find((t) => t["taskType"] === "imageInference")!;
    expect(sent["seedImage"]).toBe(`data:image/png;base64,${bytes.toString("base64")}`);
    expect(seen.map((t) => JSON.stringify(t)).join("")).not.toContain(rig.dir);
  });

  it("local files - raw resolves relative paths against the task file's directory, file:// URIs too, in arrays", async () => {
    const rig = await startRig(cleanup);
    const seen = tapTasks(rig);
    mkdirSync(join(rig.dir, "refs"));
    const a = png(rig, "refs/a.png");
    const b = png(rig, "b.png");
    const tasks = join(rig.dir, "refs", "tasks.json");
    writeFileSync(
      tasks,
      JSON.stringify([imageTask({ referenceImages: ["a.png", pathToFileURL(b.path).href, "https://example.com/c.png"] })]),
    );
    const r = await runCli(cleanup, ["raw", tasks, "--socket", rig.socketPath], { cwd: "/" });
    expect(r.code, r.stderr).toBe(0);
    expect(stdoutEnvelope(r).data).toHaveLength(1);
    expect(seen[0]?.["referenceImages"]).toEqual([
      `data:image/png;base64,${a.bytes.toString("base64")}`,
      `data:image/png;base64,${b.bytes.toString("base64")}`,
      "https://example.com/c.png",
    ]);
  });

  it("local files - a missing file, a directory, or a file over the daemon's body limit is exit 2, naming each, with nothing sent", async () => {
    const rig = await startRig(cleanup, { settings: { maxBodyBytes: 4096 } });
    const big = join(rig.dir, "big.png");
    writeFileSync(big, Buffer.alloc(8192, 1));
    mkdirSync(join(rig.dir, "adir.png"));
    const tasks = join(rig.dir, "tasks.jsonl");
    writeFileSync(
      tasks,
      [
        JSON.stringify(imageTask({ seedImage: "missing.png" })),
        JSON.stringify(imageTask({ maskImage: "adir.png" })),
        JSON.stringify(imageTask({ inputs: { referenceImages: ["big.png"] } })),
      ].join("\n"),
    );
    const r = await runCli(cleanup, ["batch", tasks, "--socket", rig.socketPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${tasks}:1: seedImage: no such file ${join(rig.dir, "missing.png")}`);
    expect(r.stderr).toContain(`${tasks}:2: maskImage: ${join(rig.dir, "adir.png")} is not a file`);
    expect(r.stderr).toMatch(
      /tasks\.jsonl:3: inputs\.referenceImages\[0\]: .*big\.png is 8192 bytes, over the daemon's request limit .*runware upload/,
    );
    expect(submissions(rig.sim)).toBe(0);
  });

  it("local files - the Node client reads them only when asked (readLocalFiles: true)", async () => {
    const rig = await startRig(cleanup);
    const seen = tapTasks(rig);
    const { path, bytes } = png(rig, "seed.png");
    const client = connect({ socket: rig.socketPath });
    // Not asked: the path goes as it is (the simulator refuses it as an input it cannot read, or takes it as text).
    await client.run([imageTask({ seedImage: path })]);
    expect(seen.at(-1)?.["seedImage"]).toBe(path);
    const env = await client.run([imageTask({ seedImage: path })], { readLocalFiles: true });
    expect(env.errors).toBeUndefined();
    expect(seen.at(-1)?.["seedImage"]).toBe(`data:image/png;base64,${bytes.toString("base64")}`);
    await expect(client.run([imageTask({ seedImage: join(rig.dir, "nope.png") })], { readLocalFiles: true })).rejects.toBeInstanceOf(
      LocalFileError,
    );
  });

  it("local files - what counts as a path: files and file:// URIs, never URLs, data URIs, UUIDs or base64", () => {
    expect(localPathOf("./a.png")).toEqual({ path: "./a.png", mustExist: true });
    expect(localPathOf("cat.jpg")).toEqual({ path: "cat.jpg", mustExist: true });
    expect(localPathOf("/tmp/x")).toEqual({ path: "/tmp/x", mustExist: false });
    expect(localPathOf("file:///tmp/a.png")).toEqual({ path: "/tmp/a.png", mustExist: true });
    for (const v of [
      "https://example.com/a.png",
      "data:image/png;base64,iVBOR",
      "6f1c0000-0000-4000-8000-000000000000",
      "iVBORw0KGgoAAAANSUhEUg",
    ]) {
      expect(localPathOf(v), v).toBeUndefined();
    }
  });
});
