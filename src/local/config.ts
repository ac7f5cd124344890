/**
 * The daemon's configuration, derived from the one settings table (settings.ts): flags, environment,
 * defaults and validation, `--help`, the flag specs `runware start` passes through, the status
 * limits and the README's daemon table. Only this module reads the table.
 * Precedence per setting: its flag, then its environment variable (if not empty), then its default.
 * The API key comes only from `RUNWARE_API_KEY` or `--api-key-file`: a flag value would show in `ps`.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { UsageError } from "../errors.js";
import { parseFlags, type FlagSpecs } from "../util/args.js";
import { API_KEY, GROUPS, SETTINGS, type Setting, type SettingKey, type Settings, type StatusKey } from "./settings.js";

export type { Settings } from "./settings.js";
export type DaemonConfig = Settings & { apiKey: string };
export type StatusLimits = Pick<Settings, StatusKey>;

/** The table in help order: by group, then as declared. */
const ENTRIES = (Object.entries(SETTINGS) as Array<[SettingKey, Setting]>)
  .map((e, i) => ({ e, i }))
  .sort((a, b) => GROUPS.indexOf(a.e[1].group) - GROUPS.indexOf(b.e[1].group) || a.i - b.i)
  .map(({ e }) => e);
const FLAGGED = ENTRIES.filter(([, s]) => s.flag !== undefined) as Array<[SettingKey, Setting & { flag: string }]>;
const SCHEMA = z.object(Object.fromEntries(ENTRIES.map(([k, s]) => [k, s.schema])));

function defaultOf(s: Setting, env: NodeJS.ProcessEnv): unknown {
  return typeof s.default === "function" ? s.default(env) : s.default;
}

/** Every setting at its default (tests and scripts start from here and shrink what they need). */
export function defaultSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return Object.fromEntries(ENTRIES.map(([k, s]) => [k, defaultOf(s, env)])) as Settings;
}

/** The `--flag` of a setting, if it has one. */
export function flagOf(key: string): string | undefined {
  return (SETTINGS as Record<string, Setting>)[key]?.flag;
}

/** parseArgs specs of every daemon flag, `--api-key-file` included (for `runware daemon` and `runware start`). */
export function daemonFlagSpecs(): FlagSpecs {
  const specs: FlagSpecs = Object.fromEntries(
    FLAGGED.map(([, s]) => [s.flag, { type: s.switch ? ("boolean" as const) : ("string" as const) }]),
  );
  specs[API_KEY.fileFlag] = { type: "string" };
  return specs;
}

/** `--api-key` is refused with a hint, before any parser could answer "unknown option" without it. */
export function refuseApiKeyFlag(argv: readonly string[]): void {
  const refused = `--${API_KEY.refusedFlag}`;
  if (argv.some((a) => a === refused || a.startsWith(`${refused}=`)))
    throw new UsageError(`${refused} is not accepted (it would show in ps); set ${API_KEY.env} or use --${API_KEY.fileFlag}`);
}

export function loadDaemonConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  refuseApiKeyFlag(argv);
  const { values } = parseFlags(argv, daemonFlagSpecs());
  const fileFlag = values[API_KEY.fileFlag];
  return { ...settingsFrom(values, env), apiKey: readApiKey(typeof fileFlag === "string" ? fileFlag : undefined, env) };
}

/** The settings `runware daemon ARGS` would run with, without its key (for its launcher: heap.ts). */
export function loadSettings(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Settings {
  return settingsFrom(parseFlags(argv, daemonFlagSpecs()).values, env);
}

function settingsFrom(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Settings {
  const raw: Record<string, unknown> = {};
  /** A bad value is named by where it came from: its flag or its environment variable. */
  const source: Record<string, string> = {};
  for (const [key, s] of ENTRIES) {
    const fromFlag = s.flag ? values[s.flag] : undefined;
    const fromEnv = s.env ? env[s.env] : undefined;
    if (s.switch && fromFlag === true) {
      raw[key] = true;
      source[key] = `--${s.flag}`;
    } else if (typeof fromFlag === "string") {
      raw[key] = fromFlag;
      source[key] = `--${s.flag}`;
    } else if (s.env && fromEnv) {
      raw[key] = fromEnv;
      source[key] = s.env;
    } else raw[key] = defaultOf(s, env);
  }
  const parsed = SCHEMA.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    throw new UsageError(`${source[key] ?? key}: ${issue?.message ?? "invalid value"}`);
  }
  return parsed.data as Settings;
}

function readApiKey(file: string | undefined, env: NodeJS.ProcessEnv): string {
  if (file !== undefined) {
    let key: string;
    try {
      key = readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new UsageError(`--${API_KEY.fileFlag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
    }
    if (!key) throw new UsageError(`--${API_KEY.fileFlag}: ${file} is empty`);
    return key;
  }
  const key = env[API_KEY.env]?.trim();
  if (!key) throw new UsageError(`no API key: set ${API_KEY.env} in the environment or pass --${API_KEY.fileFlag} PATH`);
  return key;
}

/** The settings `GET /v1/status` shows under `limits` (those marked `status` in the table). */
export function statusLimits(cfg: Settings): StatusLimits {
  return Object.fromEntries(ENTRIES.filter(([, s]) => s.status).map(([k]) => [k, cfg[k]])) as StatusLimits;
}

// --- text: --help and the README table --------------------------------------------------------------

/** The default as text: each alternative of a computed default, or the value. */
function shownDefaults(s: Setting): string[] {
  return s.shownDefault ? [...s.shownDefault] : [String(defaultOf(s, {}))];
}

/** The help line with `{key}` replaced by that setting's default. */
function helpText(s: Setting): string {
  return s.help.replace(/\{(\w+)\}/g, (m, k: string) => {
    const other = (SETTINGS as Record<string, Setting>)[k];
    return other ? shownDefaults(other).join(" or ") : m;
  });
}

const usage = (s: Setting & { flag: string }) => `--${s.flag}${s.arg ? ` ${s.arg}` : ""}`;

export function daemonHelp(): string {
  const width = Math.max(...FLAGGED.map(([, s]) => usage(s).length)) + 2;
  const lines = FLAGGED.map(([, s]) => {
    const where = `${s.env ? `env ${s.env}; ` : ""}default ${shownDefaults(s).join(", else ")}`;
    return `  ${usage(s).padEnd(width)}${helpText(s)} (${where})`;
  });
  return [
    "usage: runware daemon [options]",
    "  Runs the daemon in the foreground until SIGTERM/SIGINT.",
    `  API key: ${API_KEY.env} in the environment, or --${API_KEY.fileFlag} PATH.`,
    ...lines,
  ].join("\n");
}

const code = (text: string) => `\`${text}\``;
const cell = (text: string) => text.replaceAll("|", "\\|");

/** The flag table of README.md's "The daemon" section (test/local/settings.test.ts keeps them equal). */
export function renderReadmeTable(): string {
  const rows = [
    "| flag | env | default | meaning |",
    "| --- | --- | --- | --- |",
    `| (key) | ${code(API_KEY.env)} | — | or ${code(`--${API_KEY.fileFlag} PATH`)}; missing: exit 2 with a one-line hint |`,
    ...FLAGGED.map(([, s]) => {
      const shown = shownDefaults(s).map((d) => (typeof defaultOf(s, {}) === "number" ? d : code(d)));
      return `| ${code(usage(s))} | ${s.env ? code(s.env) : ""} | ${cell(shown.join(", else "))} | ${cell(helpText(s))} |`;
    }),
  ];
  return rows.join("\n");
}
