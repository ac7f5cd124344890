import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { loadSettings } from "../../src/local/config.js";
import { heapFlag, heapLimitMiB } from "../../src/local/heap.js";

describe("heap limit", () => {
  it("heap limit - at the defaults the daemon's heap is bounded well under 1 GiB, and grows with its budgets", () => {
    const d = loadSettings([], {});
    // 64 MiB base + results 128 + queue 128 + unsent 256 + three copies of one 32 MiB body + two of a 64 MiB frame.
    expect(heapLimitMiB(d)).toBe(64 + 128 + 128 + 256 + 96 + 128);
    expect(heapLimitMiB(d)).toBeLessThan(1024);
    expect(heapLimitMiB(loadSettings(["--max-unsent-bytes", String(512 * 1024 * 1024)], {}))).toBe(heapLimitMiB(d) + 256);
  });

  it("heap limit - the systemd unit gives the daemon the limit of the default budgets", () => {
    const unit = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), "../../scripts/runware-daemon.service"), "utf8");
    expect(unit).toContain(`Environment=NODE_OPTIONS=${heapFlag(loadSettings([], {}))}`);
  });

  it("heap limit - a process started with the flag is within it; one started without is told it is not", () => {
    const check = (nodeArgs: string[]) =>
      JSON.parse(execFileSync(process.execPath, [...nodeArgs, "--input-type=module", "-e", PROBE], { encoding: "utf8" })) as {
        unbounded: boolean;
        limitMiB: number;
        wantMiB: number;
      };
    const flagged = check([heapFlag(TINY)]);
    expect(flagged).toMatchObject({ unbounded: false, wantMiB: 65 });
    expect(flagged.limitMiB).toBeLessThan(65 + 128);
    // V8's own default is sized from the machine: far above 65 MiB.
    expect(check([])).toMatchObject({ unbounded: true, wantMiB: 65 });
  });
});

const TINY = { resultRetentionBytes: 0, maxQueuedBytes: 0, maxUnsentBytes: 0, maxBodyBytes: 1024, maxUpstreamFrameBytes: 0 };
const HEAP_JS = pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), "../../dist/src/local/heap.js")).href;
const PROBE = `import { heapCheck } from ${JSON.stringify(HEAP_JS)}; process.stdout.write(JSON.stringify(heapCheck(${JSON.stringify(TINY)})));`;
