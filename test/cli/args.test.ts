/**
 * One argument parser for every verb: `--flag value` and `--flag=value` mean the same everywhere.
 * Each verb gets a value it must refuse or act on, in both forms, and must answer both alike, with
 * the value in its answer (so the value reached the verb, not just the parser).
 */
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cleanup } from "../helpers/cleanup.js";
import { logFileOf, runCli } from "../helpers/cli.js";
import { tempDir, TEST_KEY } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Case {
  verb: string;
  positionals?: string[];
  /** Flags that take a value: [name, value]. */
  flags: Array<[string, string]>;
  /** Boolean flags. */
  switches?: string[];
  code: number;
  stderr: RegExp;
}

function argv(c: Case, form: "space" | "equals"): string[] {
  const flags = c.flags.flatMap(([name, value]) => (form === "space" ? [`--${name}`, value] : [`--${name}=${value}`]));
  return [c.verb, ...(c.positionals ?? []), ...flags, ...(c.switches ?? []).map((s) => `--${s}`)];
}

describe("cli - argument forms", () => {
  it("cli - every verb takes --flag value and --flag=value alike", async () => {
    const dir = tempDir(cleanup);
    // Nobody listens here, and nothing may start here.
    const socket = join(dir, "none", "daemon.sock");
    const tasks = join(dir, "tasks.json");
    writeFileSync(tasks, JSON.stringify([{ taskType: "modelSearch" }]));
    const prompts = join(dir, "prompts.txt");
    writeFileSync(prompts, "a fox\n");
    const cases: Case[] = [
      {
        verb: "text-to-image",
        flags: [
          ["prompt", "a fox"],
          ["width", "wide"],
        ],
        code: 2,
        stderr: /--width must be a whole number .*'wide'/,
      },
      {
        verb: "video",
        flags: [
          ["prompt", "waves"],
          ["duration", "long"],
        ],
        code: 2,
        stderr: /--duration must be a number, got 'long'/,
      },
      {
        verb: "audio",
        flags: [
          ["prompt", "rain"],
          ["n", "0"],
        ],
        code: 2,
        stderr: /--n must be a whole number/,
      },
      { verb: "model-search", flags: [["limit", "0"]], code: 2, stderr: /--limit must be a whole number from 1 to 100, got '0'/ },
      {
        verb: "raw",
        positionals: [tasks],
        flags: [["socket", socket]],
        switches: ["no-autostart"],
        code: 3,
        stderr: new RegExp(`no daemon on ${socket}`),
      },
      {
        verb: "run",
        positionals: ["modelSearch", "limit:=2"],
        flags: [["socket", socket]],
        switches: ["no-autostart"],
        code: 3,
        stderr: new RegExp(`no daemon on ${socket}`),
      },
      {
        verb: "upload",
        positionals: [tasks],
        flags: [["socket", socket]],
        switches: ["no-autostart"],
        code: 3,
        stderr: new RegExp(`no daemon on ${socket}`),
      },
      {
        verb: "account",
        flags: [["socket", socket]],
        switches: ["no-autostart"],
        code: 3,
        stderr: new RegExp(`no daemon on ${socket}`),
      },
      {
        verb: "poll",
        positionals: ["6f1c0000-0000-4000-8000-000000000000"],
        flags: [["interval-ms", "0"]],
        code: 2,
        stderr: /--interval-ms .* got '0'/,
      },
      { verb: "batch", positionals: [prompts], flags: [["chunk", "none"]], code: 2, stderr: /--chunk .* got 'none'/ },
      { verb: "status", flags: [["socket", socket]], code: 3, stderr: new RegExp(`no daemon on ${socket}`) },
      { verb: "events", flags: [["socket", socket]], code: 3, stderr: new RegExp(`no daemon on ${socket}`) },
      {
        verb: "history",
        flags: [
          ["socket", socket],
          ["since", "24h"],
        ],
        code: 3,
        stderr: new RegExp(`no daemon on ${socket}`),
      },
      {
        verb: "start",
        flags: [
          ["socket", socket],
          ["max-in-flight", "0"],
        ],
        code: 2,
        stderr: /runware start: --max-in-flight/,
      },
      {
        verb: "stop",
        flags: [
          ["socket", socket],
          ["timeout-ms", "soon"],
        ],
        code: 2,
        stderr: /--timeout-ms .* got 'soon'/,
      },
      {
        verb: "daemon",
        flags: [
          ["socket", socket],
          ["max-in-flight", "0"],
        ],
        code: 2,
        stderr: /runware daemon: --max-in-flight/,
      },
      { verb: "sim", flags: [["port", "70000"]], code: 2, stderr: /--port must be an integer 0\.\.65535/ },
      { verb: "demo", flags: [["work-ms", "slow"]], code: 2, stderr: /--work-ms .* got 'slow'/ },
    ];
    const env = { RUNWARE_API_KEY: TEST_KEY };
    const runs = await Promise.all(
      cases.flatMap((c) =>
        (["space", "equals"] as const).map(async (form) => ({ c, form, r: await runCli(cleanup, argv(c, form), { env }) })),
      ),
    );
    for (const { c, form, r } of runs) {
      const what = `${c.verb} (${form}): ${r.stderr}`;
      expect(r.code, what).toBe(c.code);
      expect(r.stderr, what).toMatch(c.stderr);
      expect(r.stdout, what).toBe("");
    }
    // Every command `runware --help` lists is covered.
    const help = await runCli(cleanup, ["--help"]);
    const listed = help.stdout
      .slice(help.stdout.indexOf("commands:"))
      .split("\n\n")[0]!
      .split("\n")
      .slice(1)
      .flatMap((line) => /^ {2}(\S+)(?: \| (\S+))?/.exec(line)?.slice(1) ?? [])
      .filter((v): v is string => v !== undefined);
    expect(listed.length).toBeGreaterThan(5);
    expect(new Set(cases.map((c) => c.verb))).toEqual(new Set(listed));
    // Nothing was started on the way.
    expect(existsSync(logFileOf(socket))).toBe(false);
    expect(existsSync(socket)).toBe(false);
  });
});
