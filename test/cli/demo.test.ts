/**
 * `runware demo` (README first lines): simulator + daemon + a batch of 8 prompts and one short
 * video, no key, no network, real files on disk, one path per line on stdout.
 */
import { afterEach, describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Cleanup } from "../helpers/cleanup.js";
import { pngSize, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("cli - demo", () => {
  it("cli - demo runs end to end without a key and prints the paths of 8 real PNG files and 1 MP4", async () => {
    const out = join(tempDir(cleanup), "out");
    // No RUNWARE_* variable at all: the demo needs neither key nor network.
    const r = await runCli(cleanup, ["demo", "--out", out, "--work-ms", "20"], { env: {} });
    expect(r.code, r.stderr).toBe(0);
    const paths = r.stdout.trim().split("\n");
    expect(paths).toHaveLength(9);
    expect(new Set(paths).size).toBe(9);
    expect(
      readdirSync(out)
        .map((f) => join(out, f))
        .sort(),
    ).toEqual([...paths].sort());
    const [videos, images] = [paths.filter((p) => p.endsWith(".mp4")), paths.filter((p) => !p.endsWith(".mp4"))];
    for (const p of images) expect(pngSize(readFileSync(p)), p).toEqual({ width: 512, height: 512 });
    expect(videos).toHaveLength(1);
    expect(readFileSync(videos[0]!).subarray(4, 8).toString("latin1")).toBe("ftyp"); // an MP4 box header
    expect(r.stderr).toMatch(/8 images and 1 video in \d+ ms over one upstream connection/);
  });
});
