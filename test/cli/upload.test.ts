/**
 * `runware upload FILE` end to end: the image goes once (imageUpload), its UUID is printed, and a
 * following task that names that UUID as its seedImage succeeds, where an unknown UUID is refused
 * by the simulator as Runware refuses it.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { renderImage } from "../../src/sim/render.js";
import { Cleanup } from "../helpers/cleanup.js";
import { runCli, stdoutEnvelope } from "../helpers/cli.js";
import { startRig, submissions, UUID_V4 } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("cli - upload", () => {
  it("upload - prints the image's UUID, which a following task uses as its seedImage; an unknown UUID fails", async () => {
    const rig = await startRig(cleanup);
    const file = join(rig.dir, "day.png");
    writeFileSync(file, renderImage({ prompt: "day", seed: 1, width: 64, height: 64 }));
    const up = await runCli(cleanup, ["upload", file, "--socket", rig.socketPath]);
    expect(up.code, up.stderr).toBe(0);
    const uuid = stdoutEnvelope(up).data[0]?.["imageUUID"];
    expect(uuid).toMatch(UUID_V4);
    expect(up.stderr).toContain(`${file}: ${uuid as string}`);

    const task = ["model=runware:101@1", "positivePrompt=the same at night", "width:=512", "height:=512"];
    const ok = await runCli(cleanup, ["run", "imageInference", "--socket", rig.socketPath, ...task, `seedImage=${uuid as string}`]);
    expect(ok.code, ok.stdout).toBe(0);
    const unknown = await runCli(cleanup, ["run", "imageInference", "--socket", rig.socketPath, ...task, `seedImage=${randomUUID()}`]);
    expect(unknown.code).toBe(1);
    expect(stdoutEnvelope(unknown).errors?.[0]).toMatchObject({ parameter: "seedImage" });
  });

  it("upload - a missing file or no FILE is a usage error (exit 2) and sends nothing", async () => {
    const rig = await startRig(cleanup);
    for (const args of [["upload"], ["upload", join(rig.dir, "nope.png")]]) {
      const r = await runCli(cleanup, [...args, "--socket", rig.socketPath]);
      expect(r.code, args.join(" ")).toBe(2);
    }
    expect(submissions(rig.sim)).toBe(0);
  });
});
