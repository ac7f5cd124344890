/**
 * `runware sim`: run the bundled Runware simulator in the foreground until SIGINT/SIGTERM. Prints one
 * line once it listens, so scripts can read the URL:
 *   runware sim listening on ws://127.0.0.1:PORT/v1 (images http://127.0.0.1:PORT)
 */
import { UsageError } from "../errors.js";
import { SimServer, SIM_DEFAULTS, SIM_TASK_TYPES, type SimOptions, type SplitMode } from "../sim/index.js";
import { parseFlags } from "../util/args.js";
import { str } from "./args.js";

const SPLITS: readonly SplitMode[] = ["random", "single", "each"];
/** The transient code `--transient-rate` injects: Runware's own example of a retryable failure (docs/protocol.md §5.2). */
const TRANSIENT_CODE = "timeoutProvider";

/** `text` broken into lines of at most `width` characters at ", ", each after `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines.map((l) => indent + l).join("\n");
}

const SIM_USAGE = `Usage: runware sim [options]

Run a fake Runware WebSocket API on loopback (no key, no network). Stops on Ctrl-C / SIGTERM.

Options:
  --port N              TCP port (default ${SIM_DEFAULTS.port}: pick a free one and print it)
  --host H              interface (default ${SIM_DEFAULTS.host})
  --work-ms N           time a task takes to produce its results (default ${SIM_DEFAULTS.workMs})
  --time-scale X        multiply video and audio render times by X (default ${SIM_DEFAULTS.timeScale}; 0.001: a 60 s video in 60 ms)
  --video-render-ms N   videoInference render time at scale 1 (default ${SIM_DEFAULTS.videoRenderMs})
  --audio-render-ms N   audioInference render time at scale 1 (default ${SIM_DEFAULTS.audioRenderMs})
  --latency-ms N        one-way delay added to every frame (default ${SIM_DEFAULTS.latencyMs})
  --auth-delay-ms N     extra delay before answering authentication (default ${SIM_DEFAULTS.authDelayMs})
  --idle-close-ms N     close a connection this long after its last frame (default ${SIM_DEFAULTS.idleCloseMs})
  --resume-buffer-ms N  keep a disconnected session's results this long (default ${SIM_DEFAULTS.resumeBufferMs})
  --reject-key KEY      answer this API key with invalidApiKey (repeatable)
  --transient-rate P    fail this share of tasks (0..1) with ${TRANSIENT_CODE}
  --split MODE          how results are spread over frames: ${SPLITS.join(" | ")} (default ${SIM_DEFAULTS.split})
  -h, --help            show this help

Task types it answers (anything else: unsupportedTaskType):
${wrap(["authentication", "ping", "getResponse", ...SIM_TASK_TYPES].join(", "), 78, "  ")}

Controls while running: POST http://HOST:PORT/_sim/<control>, GET http://HOST:PORT/_sim/counters.
`;

function nonNegative(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new UsageError(`--${flag} must be a number >= 0, got '${value}'`);
  return n;
}

interface Parsed {
  help: boolean;
  options: Partial<SimOptions>;
  transientRate: number | undefined;
}

const SIM_OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  "work-ms": { type: "string" },
  "time-scale": { type: "string" },
  "video-render-ms": { type: "string" },
  "audio-render-ms": { type: "string" },
  "latency-ms": { type: "string" },
  "auth-delay-ms": { type: "string" },
  "idle-close-ms": { type: "string" },
  "resume-buffer-ms": { type: "string" },
  "reject-key": { type: "string", multiple: true },
  "transient-rate": { type: "string" },
  split: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export function parseSimArgs(argv: string[]): Parsed {
  const { values } = parseFlags(argv, SIM_OPTIONS);
  const port = nonNegative("port", str(values, "port"));
  if (port !== undefined && (!Number.isInteger(port) || port > 65535)) throw new UsageError(`--port must be an integer 0..65535`);
  const transientRate = nonNegative("transient-rate", str(values, "transient-rate"));
  if (transientRate !== undefined && transientRate > 1) throw new UsageError("--transient-rate must be between 0 and 1");
  const split = str(values, "split");
  if (split !== undefined && !SPLITS.includes(split as SplitMode)) throw new UsageError(`--split must be one of ${SPLITS.join(", ")}`);
  return {
    help: values["help"] === true,
    transientRate,
    options: {
      port,
      host: str(values, "host"),
      workMs: nonNegative("work-ms", str(values, "work-ms")),
      timeScale: nonNegative("time-scale", str(values, "time-scale")),
      videoRenderMs: nonNegative("video-render-ms", str(values, "video-render-ms")),
      audioRenderMs: nonNegative("audio-render-ms", str(values, "audio-render-ms")),
      latencyMs: nonNegative("latency-ms", str(values, "latency-ms")),
      authDelayMs: nonNegative("auth-delay-ms", str(values, "auth-delay-ms")),
      idleCloseMs: nonNegative("idle-close-ms", str(values, "idle-close-ms")),
      resumeBufferMs: nonNegative("resume-buffer-ms", str(values, "resume-buffer-ms")),
      rejectedKeys: values["reject-key"] as string[] | undefined,
      split: split as SplitMode | undefined,
    },
  };
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(sig);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

/** `runware sim ...`; resolves with the exit code. */
export async function runSim(argv: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseSimArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`runware sim: ${err.message}\n\n${SIM_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(SIM_USAGE);
    return 0;
  }
  let sim: SimServer;
  try {
    sim = await SimServer.start(parsed.options);
  } catch (err) {
    process.stderr.write(`runware sim: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  const stopped = untilSignal();
  if (parsed.transientRate) sim.injectErrors({ code: TRANSIENT_CODE, rate: parsed.transientRate });
  process.stdout.write(`runware sim listening on ${sim.url} (images ${sim.httpUrl})\n`);
  await stopped;
  await sim.close();
  return 0;
}
