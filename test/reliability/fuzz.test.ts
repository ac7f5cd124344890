/**
 * The local API under inputs nobody scripts by hand (fast-check, bounded runs): arbitrary bodies,
 * methods, paths and headers; requests split at random byte offsets; bodies cut off mid-way;
 * oversized bodies; hundreds of idle connections; an NDJSON reader that never reads. Throughout, the
 * daemon answers with 200 (a valid batch) or a 4xx/5xx carrying Runware's error shape, never
 * crashes, keeps serving, never forwards or echoes an `apiKey`, never logs its own key (logs
 * captured at `trace`), and its memory stays bounded. Deep and wide JSON on every edge (POST /v1,
 * NDJSON, the local WebSocket, inbound upstream frames): past the depth limit a request is refused
 * and a result fails its task, every caller gets an answer, and the daemon still serves afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { randomUUID } from "node:crypto";
import net from "node:net";
import http from "node:http";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { watchUpstreamForSecrets } from "../../scripts/chaos/capture.js";
import { SECRET_KEY } from "../../scripts/chaos/config.js";
import { LocalWs, postJson, postNdjson, request, type Answer, type Json } from "../../scripts/chaos/local-client.js";
import { forceGc, MiB } from "../../scripts/chaos/resources.js";
import { ProtocolError } from "../../src/errors.js";
import { splitFrame } from "../../src/protocol/codec.js";
import { DEFAULT_MAX_JSON_DEPTH } from "../../src/protocol/json-limits.js";
import { Cleanup } from "../helpers/cleanup.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";
import { chunked, rawAbandon, rawExchange, rawRequest, splitAt } from "./raw-http.js";
import { startReliabilityRig, type ReliabilityRig } from "./rig.js";

/** fast-check's seed: fixed so `npm test` is repeatable; FUZZ_SEED=N explores another sequence. */
const FUZZ_SEED = process.env["FUZZ_SEED"] ? Number(process.env["FUZZ_SEED"]) : 7_070_707;
/** A small body limit, so oversized bodies are cheap to send. */
const MAX_BODY = 64 * 1024;
/** Heap (after GC) may grow this much over the whole file: generous, the point is "bounded". */
const HEAP_MARGIN = 48 * MiB;
const KEY = SECRET_KEY;

const cleanup = new Cleanup();
let rig: ReliabilityRig;
let heapBefore = 0;
/** Every text the daemon answered with, checked for the key as it arrives. */
let keyInAnswers = 0;
/** Tasks that reached the simulator with the key inside (anything but the daemon's own authentication). */
let keyUpstream: string[] = [];

function seen(text: string): string {
  if (text.includes(KEY)) keyInAnswers++;
  return text;
}

beforeAll(async () => {
  rig = await startReliabilityRig(cleanup, { maxBodyBytes: MAX_BODY, sim: { workMs: 2 } });
  keyUpstream = watchUpstreamForSecrets(rig.sim, [KEY]).leaks;
  // fast-check builds (and keeps) large internal tables the first time some arbitraries are used
  // (webPath: ~80 MiB): draw from each once, so they are in the baseline and not counted as ours.
  for (const arb of [bodies, methods, paths, headers, browser, taskLike, withApiKey, shapes] as Array<fc.Arbitrary<unknown>>)
    fc.sample(arb, { numRuns: 5, seed: 1 });
  // Warm up every path once, so code compiled on first use is in the baseline.
  await postJson(rig.socketPath, [imageTask(), { taskType: "ping" }]);
  await postNdjson(rig.socketPath, [imageTask()]);
  forceGc();
  heapBefore = process.memoryUsage().heapUsed;
});
afterAll(() => cleanup.run());

/** The shape of every answer: 200 with Runware's envelope, or 4xx/5xx with `errors: [{code, message}]`. */
function expectWellFormed(status: number, bodyText: string, what: string, opts: { head?: boolean } = {}): Json | undefined {
  seen(bodyText);
  expect([200, ...range(400, 599)], `${what}: status ${status}`).toContain(status);
  if (opts.head) return undefined;
  let json: Json;
  try {
    json = JSON.parse(bodyText) as Json;
  } catch {
    throw new Error(`${what}: status ${status} with a body that is not JSON: ${bodyText.slice(0, 200)}`);
  }
  if (status !== 200) {
    expect(Array.isArray(json["errors"]) && json["errors"].length > 0, `${what}: ${bodyText.slice(0, 200)}`).toBe(true);
    for (const e of json["errors"] as Json[]) {
      expect(typeof e["code"], `${what}: ${bodyText.slice(0, 200)}`).toBe("string");
      expect(typeof e["message"], `${what}: ${bodyText.slice(0, 200)}`).toBe("string");
    }
  }
  return json;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** Still alive and serving: a real task runs end to end. */
async function expectServing(): Promise<void> {
  const uuid = randomUUID();
  const ans = await postJson(rig.socketPath, [imageTask({ taskUUID: uuid, numberResults: 2 })], 5_000);
  expect(ans.status, ans.text).toBe(200);
  expect(((ans.json?.["data"] as Json[] | undefined) ?? []).filter((d) => d["taskUUID"] === uuid)).toHaveLength(2);
}

// --- arbitraries -----------------------------------------------------------------------------------
/** Headers that change how the bytes are framed or routed; malformed framing has its own test. */
const TRANSPORT_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "upgrade",
  "expect",
  "te",
  "trailer",
  "keep-alive",
  "origin",
  "referer",
]);

const taskTypes = fc.oneof(
  fc.constantFrom("imageInference", "ping", "getResponse", "modelSearch", "promptEnhance", "authentication", "imageUpload", ""),
  fc.string({ maxLength: 12 }),
  fc.jsonValue({ maxDepth: 1 }),
);
const uuidish = fc.oneof(fc.uuid({ version: 4 }), fc.uuid(), fc.string({ maxLength: 40 }), fc.integer(), fc.constant(null));
const extras = fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
const taskLike = fc
  .tuple(fc.record({ taskType: taskTypes, taskUUID: uuidish }, { requiredKeys: [] }), extras)
  .map(([core, more]): Json => ({ ...more, ...core }));
/** A task with `apiKey: KEY` nested `depth` objects down (depth 0: at the top). */
const withApiKey = fc.tuple(taskLike, fc.array(fc.constantFrom("settings", "a", "inputs", "x"), { maxLength: 90 })).map(([task, path]) => {
  let leaf: Json = { apiKey: KEY };
  for (const k of [...path].reverse()) leaf = { [k]: leaf };
  return {
    ...task,
    ...leaf,
    taskType: typeof task["taskType"] === "string" && task["taskType"] !== "authentication" ? task["taskType"] : "imageInference",
  };
});

const methods = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "QUERY");
const paths = fc.oneof(
  fc.constantFrom(
    "/v1",
    "/v1/",
    "/v1/status",
    "/v1/tasks/",
    "/v1/tasks/x",
    "/v1/tasks/%zz",
    "/v1/tasks/%E0%A4%A",
    "//v1",
    "/v1/../v1/status",
    "/v1?wait=1",
    "/",
  ),
  fc.uuid().map((u) => `/v1/tasks/${u}`),
  fc.webPath(),
  fc.tuple(fc.webPath(), fc.webQueryParameters()).map(([p, q]) => `${p || "/"}?${q}`),
);
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((n) => !TRANSPORT_HEADERS.has(n));
const headers = fc.dictionary(headerName, fc.stringMatching(/^[!-~]([ -~]{0,38}[!-~])?$/), { maxKeys: 5 });
const browser = fc.option(fc.constantFrom("origin", "referer"), { nil: undefined });

type Body = { text: string | Buffer; hasApiKey: boolean };
const bodies: fc.Arbitrary<Body> = fc.oneof(
  fc.jsonValue().map((v) => ({ text: JSON.stringify(v) ?? "null", hasApiKey: false })),
  fc.array(fc.object(), { maxLength: 4 }).map((v) => ({ text: JSON.stringify(v), hasApiKey: false })),
  fc.array(taskLike, { maxLength: 5 }).map((v) => ({ text: JSON.stringify(v), hasApiKey: false })),
  fc.tuple(fc.array(taskLike, { maxLength: 3 }), withApiKey, fc.nat()).map(([tasks, keyed, at]) => {
    const all = [...tasks];
    all.splice(at % (tasks.length + 1), 0, keyed);
    return { text: JSON.stringify(all), hasApiKey: true };
  }),
  fc.string({ maxLength: 200 }).map((s) => ({ text: s, hasApiKey: false })),
  fc.uint8Array({ maxLength: 200 }).map((b) => ({ text: Buffer.from(b), hasApiKey: false })),
);

/** How a generated value nests: every level an array, an object, or both in turn. */
type Nesting = "array" | "object" | "mixed";
/** A deep value (`depth` containers on one path) or a wide one (`width` elements or keys in one container). */
type Shape = { kind: "deep"; depth: number; nesting: Nesting } | { kind: "wide"; width: number; nesting: Nesting };

/** The shape as JSON text: built as text, since JSON.stringify itself overflows on deep values. */
function shapeText(sh: Shape): string {
  if (sh.kind === "wide") {
    const parts = Array.from({ length: sh.width }, (_, i) =>
      sh.nesting === "object" ? `"k${i}":${i}` : sh.nesting === "mixed" ? `[${i}]` : "0",
    );
    return sh.nesting === "object" ? `{${parts.join(",")}}` : `[${parts.join(",")}]`;
  }
  let open = "";
  let close = "";
  for (let i = 0; i < sh.depth; i++) {
    const asArray = sh.nesting === "array" || (sh.nesting === "mixed" && i % 2 === 0);
    open += asArray ? "[" : '{"k":';
    close = (asArray ? "]" : "}") + close;
  }
  return `${open}0${close}`;
}

/** Levels of the shape's text: containers on its deepest path. */
function shapeDepth(sh: Shape): number {
  return sh.kind === "deep" ? sh.depth : sh.nesting === "mixed" ? 2 : 1;
}

const LIMIT = DEFAULT_MAX_JSON_DEPTH;
const depths = fc.oneof(
  fc.constantFrom(LIMIT - 2, LIMIT - 1, LIMIT, LIMIT + 1),
  fc.integer({ min: 1, max: 200 }),
  fc.integer({ min: 1_000, max: 12_000 }),
);
const nestings = fc.constantFrom<Nesting>("array", "object", "mixed");
const shapes: fc.Arbitrary<Shape> = fc.oneof(
  fc.record({ kind: fc.constant("deep" as const), depth: depths, nesting: nestings }),
  fc.record({ kind: fc.constant("wide" as const), width: fc.integer({ min: 1, max: 5_000 }), nesting: nestings }),
);
/** Where the shape goes: a field of a valid task, the whole body, or an element of the batch. */
const placements = fc.constantFrom("field", "body", "element");

/** A body with the shape placed, and what the daemon must answer (413 past the body limit). */
function shapedBody(sh: Shape, where: string, taskUUID: string): { text: string; expect: number } {
  const text = shapeText(sh);
  let body: string;
  let status: number;
  if (where === "field") {
    body = `[${JSON.stringify(imageTask({ taskUUID })).slice(0, -1)},"shape":${text}}]`;
    // The task object is one level, the field the rest.
    status = shapeDepth(sh) + 1 > LIMIT ? 400 : 200;
  } else if (where === "element") {
    body = `[${text}]`;
    status = 400; // an element that is not a task object
  } else {
    body = text;
    status = 400; // not an array of task objects
  }
  return { text: body, expect: Buffer.byteLength(body) > MAX_BODY ? 413 : status };
}

// --- properties ------------------------------------------------------------------------------------

describe("fuzz - the local API under arbitrary input", () => {
  it("fuzz - arbitrary POST /v1 bodies: 200 with the envelope or a Runware-shaped 4xx; an apiKey anywhere is refused, never forwarded", async () => {
    await fc.assert(
      fc.asyncProperty(bodies, async (b) => {
        const ans = await request(rig.socketPath, {
          method: "POST",
          path: "/v1",
          body: b.text,
          headers: { "content-type": "application/json" },
          timeoutMs: 10_000,
        });
        const json = expectWellFormed(ans.status, ans.text, `POST ${String(b.text).slice(0, 120)}`);
        if (b.hasApiKey) expect(ans.status, ans.text).toBe(400);
        if (ans.status === 200) {
          for (const x of [...((json?.["data"] as Json[]) ?? []), ...((json?.["errors"] as Json[]) ?? [])])
            expect(typeof x["taskUUID"]).toBe("string");
        }
      }),
      { numRuns: 250, seed: FUZZ_SEED },
    );
    expect(keyUpstream).toEqual([]);
    await expectServing();
  });

  it("fuzz - an apiKey nested deeper than any depth limit is still refused and never forwarded", async () => {
    let leaf: Json = { apiKey: KEY };
    for (let i = 0; i < 200; i++) leaf = { nested: leaf };
    const ans = await postJson(rig.socketPath, [imageTask({ extra: leaf })]);
    expectWellFormed(ans.status, ans.text, "deeply nested apiKey");
    expect(ans.status, ans.text.slice(0, 300)).toBe(400);
    expect(ans.json?.["errors"]?.[0]?.["code"]).toBe("unsupportedParameter");
    expect(keyUpstream).toEqual([]);
  });

  it("fuzz - random methods, paths and headers (Origin included): only 200 or Runware-shaped 4xx, browsers refused", async () => {
    await fc.assert(
      fc.asyncProperty(
        methods,
        paths,
        headers,
        browser,
        fc.option(fc.jsonValue(), { nil: undefined }),
        async (method, path, hdrs, from, body) => {
          const h: Record<string, string> = { ...hdrs };
          if (from) h[from] = "https://evil.example";
          const text = body === undefined || method === "GET" || method === "HEAD" ? undefined : JSON.stringify(body);
          const ans: Answer = await request(rig.socketPath, {
            method,
            path,
            headers: h,
            ...(text !== undefined ? { body: text } : {}),
            timeoutMs: 10_000,
          });
          const what = `${method} ${path} ${JSON.stringify(h)}`;
          expectWellFormed(ans.status, ans.text, what, { head: method === "HEAD" });
          expect(ans.headers["content-type"], what).toMatch(/^application\/(json|x-ndjson)/);
          if (from) expect(ans.status, what).toBe(403);
        },
      ),
      { numRuns: 250, seed: FUZZ_SEED },
    );
    await expectServing();
  });

  it("fuzz - malformed HTTP (bad methods, broken framing, oversized headers, CONNECT) gets a JSON error, not a bare one", async () => {
    const cases = [
      "FOO /v1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
      "GET /v1/status HTTP/1.1\r\nbad header line\r\n\r\n",
      "POST /v1 HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n[]",
      `GET /v1/status HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`,
      "GET /v1/status HTTP/1.1\r\nhost: x\r\nexpect: something-else\r\nconnection: close\r\n\r\n",
      "CONNECT localhost:443 HTTP/1.1\r\nhost: localhost:443\r\n\r\n",
      // WebSocket upgrades with unparseable absolute targets: the upgrade listener must not throw
      // (an exception in it would take the daemon down).
      "GET http://[/v1 HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      "GET http://%zz/v1 HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
      "garbage\r\n\r\n",
    ];
    for (const raw of cases) {
      const ans = await rawExchange(rig.socketPath, [raw]);
      const what = JSON.stringify(raw.slice(0, 60));
      expect(ans.status, `${what}: ${ans.raw.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expectWellFormed(ans.status, ans.body, what);
    }
    await expectServing();
  });

  it("fuzz - a valid batch written in pieces split at random byte offsets (headers included), plain or chunked, is served whole", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        fc.constantFrom(0, 1),
        async (n, cuts, asChunked, gapMs) => {
          const tasks = Array.from({ length: n }, (_, i) =>
            i % 2 === 0 ? { taskType: "ping", taskUUID: randomUUID() } : imageTask({ taskUUID: randomUUID() }),
          );
          const body = JSON.stringify(tasks);
          const bytes = asChunked
            ? Buffer.concat([
                Buffer.from(rawRequest("POST", "/v1", { "transfer-encoding": "chunked", "content-type": "application/json" })),
                chunked(
                  body,
                  cuts.map((c) => c % (body.length + 1)),
                ),
              ])
            : Buffer.from(rawRequest("POST", "/v1", { "content-type": "application/json" }, body));
          const ans = await rawExchange(
            rig.socketPath,
            splitAt(
              bytes,
              cuts.map((c) => c % (bytes.length + 1)),
            ),
            { gapMs },
          );
          const json = expectWellFormed(ans.status, ans.body, `split ${cuts.join(",")}`);
          expect(ans.status, ans.raw.slice(0, 300)).toBe(200);
          const got = new Set(((json?.["data"] as Json[]) ?? []).map((d) => d["taskUUID"]));
          for (const t of tasks) expect(got.has(t["taskUUID"])).toBe(true);
        },
      ),
      { numRuns: 60, seed: FUZZ_SEED },
    );
  });

  it("fuzz - bodies cut off mid-way (the client dies) leave the daemon serving, with nothing sent upstream", async () => {
    const before = Object.values(rig.sim.counters.received).reduce((a, b) => a + b, 0);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.boolean(),
        async (n, keep, asChunked) => {
          const body = JSON.stringify(Array.from({ length: n }, () => imageTask({ taskUUID: randomUUID() })));
          const head = asChunked
            ? rawRequest("POST", "/v1", { "transfer-encoding": "chunked", "content-type": "application/json" })
            : rawRequest("POST", "/v1", { "content-type": "application/json", "content-length": String(body.length) });
          const payload = asChunked ? chunked(body, [Math.floor(body.length / 2)]) : Buffer.from(body);
          await rawAbandon(rig.socketPath, [head, payload.subarray(0, Math.floor(payload.length * keep))]);
        },
      ),
      { numRuns: 60, seed: FUZZ_SEED },
    );
    await expectServing();
    const after = Object.values(rig.sim.counters.received).reduce((a, b) => a + b, 0);
    expect(after - before).toBe(1); // only expectServing's own task
  });

  it("fuzz - oversized bodies, declared or streamed, are refused with 413 before they are buffered", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: MAX_BODY }), fc.boolean(), async (over, asChunked) => {
        const body = `[${" ".repeat(MAX_BODY + over - 2)}]`;
        const bytes = asChunked
          ? Buffer.concat([
              Buffer.from(rawRequest("POST", "/v1", { "transfer-encoding": "chunked" })),
              chunked(body, [16_384, 40_000, 70_000]),
            ])
          : Buffer.from(rawRequest("POST", "/v1", {}, body));
        const ans = await rawExchange(rig.socketPath, splitAt(bytes, [8_192, 32_768, 65_536]));
        expectWellFormed(ans.status, ans.body, `${body.length} bytes${asChunked ? " chunked" : ""}`);
        expect(ans.status).toBe(413);
      }),
      { numRuns: 20, seed: FUZZ_SEED },
    );
    await expectServing();
  });

  it("fuzz - 200 idle connections and 20 half-sent headers do not stop a good request from being served", async () => {
    const socks: net.Socket[] = [];
    try {
      for (let i = 0; i < 220; i++) {
        const s = net.connect(rig.socketPath);
        s.on("error", () => undefined);
        if (i >= 200) s.once("connect", () => s.write("POST /v1 HTTP/1.1\r\nhost: x\r\ncontent-le"));
        socks.push(s);
      }
      await waitFor(() => socks.every((s) => !s.connecting), "the idle connections to be established");
      await expectServing();
      const status = await request(rig.socketPath, { path: "/v1/status", timeoutMs: 5_000 });
      expectWellFormed(status.status, status.text, "status");
      expect(status.status).toBe(200);
    } finally {
      for (const s of socks) s.destroy();
    }
  });

  it("fuzz - an NDJSON reader that never reads does not hold up other callers, and its stream is whole when it reads", async () => {
    // Big results (base64 PNGs) so the unread answer (~1.4 MB) outgrows every socket buffer, yet stays
    // within the 2 MiB a client may leave unread (--max-client-unsent-bytes): so it is not cut.
    const tasks = Array.from({ length: 16 }, () =>
      imageTask({ taskUUID: randomUUID(), numberResults: 4, outputType: "base64Data", width: 256, height: 256 }),
    );
    const body = JSON.stringify(tasks);
    let res: http.IncomingMessage | undefined;
    const req = http.request({
      socketPath: rig.socketPath,
      path: "/v1",
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", accept: "application/x-ndjson", "content-length": String(body.length) },
    });
    req.on("response", (r) => {
      res = r;
      r.pause(); // never read
    });
    req.on("error", () => undefined);
    req.end(body);
    try {
      await waitFor(() => res, "the NDJSON response to start");
      // Everyone else is served meanwhile, fully.
      await Promise.all([
        expectServing(),
        expectServing(),
        request(rig.socketPath, { path: "/v1/status", timeoutMs: 5_000 }).then((a) => expect(a.status).toBe(200)),
      ]);
      await waitFor(
        () => tasks.every((t) => rig.daemon.service.lookup(String(t["taskUUID"]))?.state === "done"),
        "the slow reader's tasks to finish",
        15_000,
      );
      forceGc();
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(HEAP_MARGIN);
      // Now read: every line is there, the last one is the done line.
      let text = "";
      res!.setEncoding("utf8");
      res!.on("data", (c: string) => (text += c));
      await new Promise<void>((r) => res!.on("end", () => r()).resume());
      seen(text);
      const lines = text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Json);
      expect(lines.at(-1)).toMatchObject({ done: true, tasks: 16, completed: 16, results: 64 });
    } finally {
      req.destroy();
    }
  });

  it("fuzz - arbitrary frames on the local WebSocket get Runware-shaped answers; the connection and the daemon survive", async () => {
    const ws = await LocalWs.connect(rig.socketPath);
    const frames: Json[] = [];
    ws.onFrame((f, text) => {
      seen(text);
      frames.push(f);
    });
    try {
      ws.send([{ taskType: "authentication", apiKey: KEY }]);
      const frame = fc.oneof(
        fc.jsonValue().map((v) => JSON.stringify(v) ?? "null"),
        fc.array(taskLike, { maxLength: 4 }).map((v) => JSON.stringify(v)),
        withApiKey.map((t) => JSON.stringify([t])),
        fc.string({ maxLength: 100 }),
      );
      await fc.assert(
        fc.asyncProperty(frame, async (text) => {
          const from = frames.length;
          (ws as unknown as { ws: { send(t: string): void } }).ws.send(text);
          // A ping after it: once its pong is back, everything the frame caused before it is in.
          ws.send([{ taskType: "ping", ping: true }]);
          await waitFor(
            () => frames.slice(from).some((f) => (f["data"] as Json[] | undefined)?.some((d) => d["pong"] === true)),
            "the pong",
            5_000,
          );
          for (const f of frames.slice(from)) {
            expect(f["unparsable"], JSON.stringify(f)).toBeUndefined();
            for (const e of (f["errors"] as Json[] | undefined) ?? []) {
              expect(typeof e["code"]).toBe("string");
              expect(typeof e["message"]).toBe("string");
            }
          }
          expect(ws.isOpen).toBe(true);
        }),
        { numRuns: 150, seed: FUZZ_SEED },
      );
    } finally {
      await ws.close();
    }
    expect(keyUpstream).toEqual([]);
  });

  it("fuzz - deep and wide POST /v1 bodies, JSON and NDJSON: refused past the depth limit (400), served within it, never a crash", async () => {
    await fc.assert(
      fc.asyncProperty(shapes, placements, fc.boolean(), async (sh, where, ndjson) => {
        const uuid = randomUUID();
        const b = shapedBody(sh, where, uuid);
        const ans = await request(rig.socketPath, {
          method: "POST",
          path: "/v1",
          body: b.text,
          headers: { "content-type": "application/json", ...(ndjson ? { accept: "application/x-ndjson" } : {}) },
          timeoutMs: 10_000,
        });
        const what = `${JSON.stringify(sh)} as ${where}${ndjson ? " (NDJSON)" : ""}`;
        expect(ans.status, `${what}: ${ans.text.slice(0, 300)}`).toBe(b.expect);
        if (ans.status !== 200 || !ndjson) {
          const json = expectWellFormed(ans.status, ans.text, what);
          if (ans.status === 400 && where === "field") {
            expect(json?.["errors"]?.[0]).toMatchObject({ code: "invalidRequestBody", taskUUID: uuid });
            expect(json?.["errors"]?.[0]?.["message"]).toContain(`nested deeper than ${LIMIT} levels`);
          }
          if (ans.status === 200) expect(((json?.["data"] as Json[] | undefined) ?? []).map((d) => d["taskUUID"])).toEqual([uuid]);
          return;
        }
        seen(ans.text);
        const lines = ans.text
          .trimEnd()
          .split("\n")
          .map((l) => JSON.parse(l) as Json);
        expect(lines.at(-1), what).toEqual({ done: true, tasks: 1, completed: 1, failed: 0, inDoubt: 0, results: 1 });
        expect(lines.filter((l) => l["data"])).toHaveLength(1);
      }),
      { numRuns: 80, seed: FUZZ_SEED },
    );
    expect(rig.daemon.engine.stats().upstream.state).toBe("ready");
    await expectServing();
  });

  it("fuzz - deep and wide frames on the local WebSocket: an error frame or the results for each, the connection stays open", async () => {
    const ws = await LocalWs.connect(rig.socketPath);
    const frames: Json[] = [];
    ws.onFrame((f, text) => {
      seen(text);
      frames.push(f);
    });
    try {
      await fc.assert(
        fc.asyncProperty(shapes, placements, async (sh, where) => {
          const uuid = randomUUID();
          const b = shapedBody(sh, where, uuid);
          // A frame past maxBodyBytes closes the connection (1009, ws's maxPayload): not this test's subject.
          fc.pre(b.expect !== 413);
          const from = frames.length;
          (ws as unknown as { ws: { send(t: string): void } }).ws.send(b.text);
          const what = `${JSON.stringify(sh)} as ${where}`;
          if (where === "field") {
            const answer = await waitFor(
              () =>
                frames
                  .slice(from)
                  .find((f) => [...((f["data"] as Json[]) ?? []), ...((f["errors"] as Json[]) ?? [])].some((x) => x["taskUUID"] === uuid)),
              `an answer for ${what}`,
              5_000,
            );
            if (b.expect === 400) expect(answer["errors"]?.[0], what).toMatchObject({ code: "invalidRequestBody", taskUUID: uuid });
            else expect(answer["data"]?.[0], what).toMatchObject({ taskUUID: uuid });
          } else {
            ws.send([{ taskType: "ping", ping: true }]);
            await waitFor(
              () => frames.slice(from).some((f) => (f["data"] as Json[] | undefined)?.some((d) => d["pong"] === true)),
              "the pong",
              5_000,
            );
            const errors = frames.slice(from).flatMap((f) => (f["errors"] as Json[] | undefined) ?? []);
            expect(errors.length, what).toBeGreaterThan(0);
          }
          for (const f of frames.slice(from)) expect(f["unparsable"], JSON.stringify(f).slice(0, 200)).toBeUndefined();
          expect(ws.isOpen).toBe(true);
        }),
        { numRuns: 60, seed: FUZZ_SEED },
      );
    } finally {
      await ws.close();
    }
    await expectServing();
  });

  it("fuzz - inbound upstream frames, deep and wide anywhere: splitFrame returns only what can be re-encoded, or refuses the frame", () => {
    const parts = fc.constantFrom("itemField", "errorField", "data", "frame", "frameField", "errorsList");
    fc.assert(
      fc.property(shapes, parts, (sh, part) => {
        const t = shapeText(sh);
        const ids = `"taskType":"imageInference","taskUUID":"${randomUUID()}"`;
        const text = {
          itemField: `{"data":[{${ids},"imageUUID":"i","x":${t}}]}`,
          errorField: `{"errors":[{"code":"c","message":"m",${ids},"x":${t}}]}`,
          data: `{"data":${t}}`,
          frame: t,
          frameField: `{"data":[{${ids}}],"x":${t}}`,
          errorsList: `{"errors":${t}}`,
        }[part];
        let out;
        try {
          out = splitFrame(text);
        } catch (err) {
          expect(err, `${part} ${JSON.stringify(sh)}`).toBeInstanceOf(ProtocolError);
          return;
        }
        // Whatever leaves the codec, every local encoder can write.
        expect(() => JSON.stringify([[...out.tasks.values()], out.auth, out.orphanErrors, out.orphanItems])).not.toThrow();
        if ((part === "itemField" || part === "errorField") && shapeDepth(sh) + 1 > LIMIT) {
          const slice = [...out.tasks.values()][0];
          expect(slice?.items).toEqual([]);
          expect(slice?.errors.map((e) => e.code)).toEqual(["invalidResponse"]);
        }
      }),
      { numRuns: 300, seed: FUZZ_SEED },
    );
  });

  it("fuzz - deep upstream results (the sim's nestResults) reach HTTP, NDJSON and WebSocket callers as one answer per task", async () => {
    const ws = await LocalWs.connect(rig.socketPath);
    const wsAnswers = new Map<string, Json>();
    ws.onFrame((f, text) => {
      seen(text);
      for (const x of [...((f["data"] as Json[]) ?? []), ...((f["errors"] as Json[]) ?? [])])
        if (typeof x["taskUUID"] === "string" && !wsAnswers.has(x["taskUUID"])) wsAnswers.set(x["taskUUID"], x);
    });
    try {
      await fc.assert(
        fc.asyncProperty(depths, fc.integer({ min: 1, max: 3 }), async (depth, count) => {
          const http1 = randomUUID();
          const nd = randomUUID();
          const viaWs = randomUUID();
          rig.sim.nestResults(depth, count); // count <= the 3 tasks below, so nothing is left armed
          ws.send([imageTask({ taskUUID: viaWs })]);
          const [json, ndjson] = await Promise.all([
            postJson(rig.socketPath, [imageTask({ taskUUID: http1 })], 10_000),
            postNdjson(rig.socketPath, [imageTask({ taskUUID: nd })]),
          ]);
          const wsAnswer = await waitFor(() => wsAnswers.get(viaWs), "the WebSocket answer", 5_000);
          const what = `depth ${depth} × ${count}`;

          expectWellFormed(json.status, json.text, what);
          expect(json.status).toBe(200);
          const failedHttp = ((json.json?.["errors"] as Json[]) ?? []).filter((e) => e["code"] === "invalidResponse").length;
          expect(((json.json?.["data"] as Json[]) ?? []).length + failedHttp, what).toBe(1);

          seen(ndjson.text);
          expect(ndjson.endedOnNewline).toBe(true);
          const done = ndjson.lines.at(-1)!;
          const dataLines = ndjson.lines.filter((l) => l["data"]).length;
          expect(done, what).toMatchObject({ done: true, tasks: 1, results: dataLines });
          expect(done["completed"] + done["failed"], what).toBe(1);

          const failedWs = wsAnswer["code"] === "invalidResponse" ? 1 : 0;
          if (!failedWs) expect(wsAnswer["imageUUID"], JSON.stringify(wsAnswer)).toBeDefined();
          // Past the limit exactly `count` of the three tasks failed, each with invalidResponse; within it none did.
          const failed = failedHttp + done["failed"] + failedWs;
          expect(failed, what).toBe(depth + 1 > LIMIT ? count : 0);
        }),
        { numRuns: 25, seed: FUZZ_SEED },
      );
    } finally {
      await ws.close();
    }
    expect(rig.daemon.engine.stats().upstream.state).toBe("ready");
    await expectServing();
  });

  it("fuzz - afterwards: still serving, memory bounded, the key in no answer, log line or file", async () => {
    await expectServing();
    const status = await request(rig.socketPath, { path: "/v1/status" });
    expect(seen(status.text)).not.toContain(KEY);
    await waitFor(() => rig.daemon.engine.pendingCount === 0, "every fuzz task to settle", 15_000);
    forceGc();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    expect(growth, `heap grew ${(growth / MiB).toFixed(1)} MiB`).toBeLessThan(HEAP_MARGIN);
    expect(keyInAnswers).toBe(0);
    expect(keyUpstream).toEqual([]);
    expect(rig.capture.byLevel["trace"]).toBeGreaterThan(0); // trace level really was on
    expect(rig.capture.leakCount, rig.capture.leaks.join("\n")).toBe(0);
    for (const name of readdirSync(rig.dir, { recursive: true }) as string[]) {
      const p = join(rig.dir, name);
      if (statSync(p).isFile()) expect(readFileSync(p, "latin1"), p).not.toContain(KEY);
    }
    await rig.daemon.stop("fuzz over");
    expect(rig.clock.pending).toBe(0);
  });
});
