/**
 * The daemon's one settings table (src/local/settings.ts) and what config.ts derives from it: the
 * flag parser, `--help`, validation, the status limits, the flag specs of `runware start`, and the
 * README's daemon table.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { UsageError } from "../../src/errors.js";
import { daemonFlagSpecs, daemonHelp, defaultSettings, loadDaemonConfig, renderReadmeTable, statusLimits } from "../../src/local/config.js";
import { API_KEY, SETTINGS, type Setting, type Settings } from "../../src/local/settings.js";
import { thrown } from "../helpers/thrown.js";

const ENV = { RUNWARE_API_KEY: "settings-fake-key" };
const ENTRIES = Object.entries(SETTINGS) as Array<[string, Setting]>;
const FLAGGED = ENTRIES.filter(([, s]) => s.flag !== undefined) as Array<[string, Setting & { flag: string }]>;
/** Flags that take a value (a switch, like --no-journal, takes none). */
const VALUED = FLAGGED.filter(([, s]) => !s.switch);
const SWITCHES = FLAGGED.filter(([, s]) => s.switch);

const defaultOf = (s: Setting) => (typeof s.default === "function" ? s.default(ENV) : s.default);

/** A valid value other than the default, as a flag would carry it. */
function otherValue(s: Setting): string {
  const d = defaultOf(s);
  if (typeof d === "number") return String(d + 1);
  if (s.example !== undefined) return s.example;
  if (s.schema instanceof z.ZodEnum) return String(s.schema.options.find((o) => o !== d));
  return `${String(d)}-alt`;
}

/** A value the flag's schema refuses. */
function badValue(s: Setting): string | undefined {
  return ["not-a-value", ""].find((v) => !s.schema.safeParse(v).success);
}

/** The table of README.md's "## The daemon" section, as its lines. */
function readmeDaemonTable(): string {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.split(/^## /m).find((s) => s.startsWith("The daemon\n")) ?? "";
  const lines = section.split("\n");
  const first = lines.findIndex((l) => l.startsWith("| flag |"));
  const rest = lines.slice(first);
  const end = rest.findIndex((l) => !l.startsWith("|"));
  return (end < 0 ? rest : rest.slice(0, end)).join("\n");
}

describe("settings - the one table", () => {
  it("settings - every entry has a one-line help and a reason for its default", () => {
    for (const [key, s] of ENTRIES) {
      expect(s.help.trim(), key).not.toBe("");
      expect(s.help, key).not.toContain("\n");
      expect(s.why.trim(), key).not.toBe("");
    }
  });

  it("settings - flags and environment variables are unique, and none is a key flag", () => {
    const flags = FLAGGED.map(([, s]) => s.flag);
    expect(new Set(flags).size).toBe(flags.length);
    expect(flags).not.toContain(API_KEY.refusedFlag);
    expect(flags).not.toContain(API_KEY.fileFlag);
    const envs = ENTRIES.flatMap(([, s]) => (s.env ? [s.env] : []));
    expect(new Set(envs).size).toBe(envs.length);
    expect(envs).not.toContain(API_KEY.env);
  });

  it("settings - every default validates against its own schema", () => {
    for (const [key, s] of ENTRIES) {
      const r = s.schema.safeParse(defaultOf(s));
      expect(r.success, `${key}: ${r.error?.message}`).toBe(true);
    }
  });

  it("settings - with no flags the config is every setting at its default, internals included, plus the key", () => {
    const cfg = loadDaemonConfig([], ENV);
    expect(Object.keys(cfg).sort()).toEqual([...Object.keys(SETTINGS), "apiKey"].sort());
    expect(cfg).toEqual({ ...defaultSettings(ENV), apiKey: ENV.RUNWARE_API_KEY });
  });
});

describe("settings - flags", () => {
  it("settings - --flag=value and --flag value both set every flag", () => {
    for (const [key, s] of VALUED) {
      const v = otherValue(s);
      const spaced = loadDaemonConfig([`--${s.flag}`, v], ENV);
      const joined = loadDaemonConfig([`--${s.flag}=${v}`], ENV);
      expect(spaced[key as keyof typeof spaced], key).not.toEqual(defaultOf(s));
      expect(spaced[key as keyof typeof spaced], key).toEqual(s.schema.parse(v));
      expect(joined).toEqual(spaced);
    }
  });

  it("settings - a switch sets its setting to true and takes no value", () => {
    expect(SWITCHES.length).toBeGreaterThan(0);
    for (const [key, s] of SWITCHES) {
      expect(loadDaemonConfig([`--${s.flag}`], ENV)[key as keyof Settings], key).toBe(true);
      expect(loadDaemonConfig([], ENV)[key as keyof Settings], key).toBe(false);
      expect(thrown(UsageError, () => loadDaemonConfig([`--${s.flag}=yes`], ENV)).message).toContain(`--${s.flag}`);
    }
  });

  it("settings - a bad value is a usage error naming its flag", () => {
    for (const [key, s] of VALUED) {
      const bad = badValue(s);
      expect(bad, `${key} has a value its schema refuses`).toBeDefined();
      const err = thrown(UsageError, () => loadDaemonConfig([`--${s.flag}=${bad}`], ENV));
      expect(err.message.startsWith(`--${s.flag}: `), err.message).toBe(true);
      expect(err.code).toBe("usage");
    }
  });

  it("settings - an environment variable is used when its flag is absent, and a bad one is named", () => {
    for (const [key, s] of ENTRIES.filter(([, e]) => e.env !== undefined)) {
      const v = otherValue(s);
      const cfg = loadDaemonConfig([], { ...ENV, [s.env!]: v });
      expect(cfg[key as keyof typeof cfg], key).toEqual(s.schema.parse(v));
      if (s.flag)
        expect(loadDaemonConfig([`--${s.flag}`, String(defaultOf(s))], { ...ENV, [s.env!]: v })[key as keyof typeof cfg]).toEqual(
          defaultOf(s),
        );
      const bad = badValue(s);
      // An empty variable counts as unset, so only a non-empty bad value can be refused.
      if (bad) expect(thrown(UsageError, () => loadDaemonConfig([], { ...ENV, [s.env!]: bad })).message).toMatch(new RegExp(`^${s.env}: `));
    }
  });

  it("settings - an unknown flag is a usage error naming it", () => {
    expect(thrown(UsageError, () => loadDaemonConfig(["--frobnicate", "1"], ENV)).message).toContain("--frobnicate");
  });

  it("settings - --api-key is refused in both forms, with a hint and without its value", () => {
    for (const argv of [["--api-key", "flag-fake-key-1"], ["--api-key=flag-fake-key-1"]]) {
      const err = thrown(UsageError, () => loadDaemonConfig(argv, ENV));
      expect(err.message).toContain(API_KEY.env);
      expect(err.message).toContain(`--${API_KEY.fileFlag}`);
      expect(err.message).not.toContain("flag-fake-key-1");
    }
  });

  it("settings - runware start's flag specs are every daemon flag and --api-key-file, each taking a value unless a switch", () => {
    const specs = daemonFlagSpecs();
    expect(Object.keys(specs).sort()).toEqual([...FLAGGED.map(([, s]) => s.flag), API_KEY.fileFlag].sort());
    for (const [, s] of FLAGGED) expect(specs[s.flag]?.type, s.flag).toBe(s.switch ? "boolean" : "string");
  });
});

describe("settings - what is derived for users", () => {
  it("settings - --help lists every flag with its default", () => {
    const help = daemonHelp().split("\n");
    for (const [, s] of FLAGGED) {
      const line = help.find((l) => l.trimStart().startsWith(`--${s.flag} `));
      expect(line, `--${s.flag} in --help`).toBeDefined();
      for (const shown of s.shownDefault ?? [String(defaultOf(s))]) expect(line).toContain(shown);
      if (s.env) expect(line).toContain(s.env);
    }
    expect(help.join("\n")).toContain(API_KEY.env);
    expect(help.join("\n")).toContain(`--${API_KEY.fileFlag}`);
  });

  it("settings - README's daemon table is the one rendered from the settings table", () => {
    const rendered = renderReadmeTable();
    // Every flag is a row, so a table that matches this one documents them all.
    for (const [, s] of FLAGGED) expect(rendered).toContain(`| \`--${s.flag}`);
    expect(readmeDaemonTable(), `README.md's daemon table is out of date; it must read:\n${rendered}\n`).toBe(rendered);
  });

  it("settings - the status limits are the entries marked for status, maxInFlight and maxQueued among them", () => {
    const cfg = loadDaemonConfig(["--max-in-flight", "7"], ENV);
    const limits = statusLimits(cfg);
    const marked = ENTRIES.filter(([, s]) => s.status).map(([k]) => k);
    expect(Object.keys(limits).sort()).toEqual(marked.sort());
    expect(marked).toEqual(expect.arrayContaining(["maxInFlight", "maxQueued"]));
    expect(limits.maxInFlight).toBe(7);
    expect(limits.maxQueued).toBe(cfg.maxQueued);
  });
});
