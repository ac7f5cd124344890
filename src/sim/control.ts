/**
 * The simulator's controls over HTTP, so a test or benchmark can steer a simulator running in
 * another process: `POST /_sim/<control>` with a JSON body, `GET /_sim/counters`.
 */
import { z } from "zod";
import type { SimServer } from "./server.js";

const ms = z.object({ ms: z.number().finite().min(0) });
const empty = z.object({}).optional();

function control<S extends z.ZodType>(schema: S, run: (sim: SimServer, body: z.infer<S>) => void) {
  return { schema, run: run as (sim: SimServer, body: unknown) => void };
}

/** Every route: `POST /_sim/<name>`; the body shape is the zod schema beside it. */
const CONTROLS = {
  setLatency: control(ms, (sim, b) => sim.setLatency(b.ms)),
  setWorkTime: control(ms, (sim, b) => sim.setWorkTime(b.ms)),
  setAuthDelay: control(ms, (sim, b) => sim.setAuthDelay(b.ms)),
  setTimeScale: control(z.object({ scale: z.number().finite().min(0) }), (sim, b) => sim.setTimeScale(b.scale)),
  setRenderTime: control(z.object({ taskType: z.enum(["videoInference", "audioInference"]), ms: z.number().finite().min(0) }), (sim, b) =>
    sim.setRenderTime(b.taskType, b.ms),
  ),
  setRejectedKeys: control(z.object({ keys: z.array(z.string()) }), (sim, b) => sim.setRejectedKeys(b.keys)),
  cutAll: control(empty, (sim) => sim.cutAll()),
  freeze: control(empty, (sim) => sim.freeze()),
  unfreeze: control(empty, (sim) => sim.unfreeze()),
  forgetSessions: control(empty, (sim) => sim.forgetSessions()),
  injectErrors: control(
    z.object({
      code: z.string().min(1),
      count: z.number().int().min(1).optional(),
      rate: z.number().min(0).max(1).optional(),
      taskTypes: z.array(z.string()).optional(),
    }),
    (sim, b) => sim.injectErrors(b),
  ),
  clearErrors: control(empty, (sim) => sim.clearErrors()),
  failNextAuths: control(z.object({ n: z.number().int().min(0), mode: z.enum(["drop", "error"]) }), (sim, b) =>
    sim.failNextAuths(b.n, b.mode),
  ),
  nestResults: control(z.object({ depth: z.number().int().min(1).max(1_000_000), count: z.number().int().min(0).optional() }), (sim, b) =>
    sim.nestResults(b.depth, b.count),
  ),
  setBalance: control(z.object({ amount: z.number().finite() }), (sim, b) => sim.setBalance(b.amount)),
  failModelUploads: control(
    z.object({ status: z.string().min(1), message: z.string(), count: z.number().int().min(0).optional() }),
    (sim, b) => sim.failModelUploads(b),
  ),
  sendGarbage: control(z.object({ text: z.string().optional() }).optional(), (sim, b) => sim.sendGarbage(b?.text)),
  resetCounters: control(empty, (sim) => sim.resetCounters()),
} as const;

export interface ControlReply {
  status: number;
  body: unknown;
}

/** Route one `/_sim/...` request; `rawBody` is the request body as text ("" when none). */
export function handleControl(sim: SimServer, method: string, name: string, rawBody: string): ControlReply {
  if (name === "counters") {
    return method === "GET" ? { status: 200, body: sim.counters } : { status: 405, body: { error: "use GET" } };
  }
  const entry = Object.hasOwn(CONTROLS, name) ? CONTROLS[name as keyof typeof CONTROLS] : undefined;
  if (!entry) return { status: 404, body: { error: `unknown control '${name}'`, controls: ["counters", ...Object.keys(CONTROLS)] } };
  if (method !== "POST") return { status: 405, body: { error: "use POST" } };
  let json: unknown;
  try {
    json = rawBody.trim() === "" ? undefined : JSON.parse(rawBody);
  } catch {
    return { status: 400, body: { error: "body is not JSON" } };
  }
  const parsed = entry.schema.safeParse(json);
  if (!parsed.success) return { status: 400, body: { error: z.prettifyError(parsed.error) } };
  entry.run(sim, parsed.data);
  return { status: 200, body: { ok: true } };
}
