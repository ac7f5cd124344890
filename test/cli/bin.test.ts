/**
 * `npx runware ...` runs the package's bin file directly: it must be executable after every build,
 * not only after the first `npm ci` (a rebuilt dist/ once left it 0644: "Permission denied").
 */
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { promisify } from "node:util";
import { CLI_MAIN } from "../helpers/daemon.js";

describe("cli - the bin file", () => {
  it("cli - the built entry is executable and runs by itself (shebang), as npx runs it", async () => {
    expect(statSync(CLI_MAIN).mode & 0o111).not.toBe(0);
    const { stdout } = await promisify(execFile)(CLI_MAIN, ["--help"], { timeout: 15_000 });
    expect(stdout).toMatch(/^usage: runware <command>/);
  });
});
