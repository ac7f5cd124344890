/**
 * The local API under inputs nobody scripts by hand (fast-check, bounded runs): arbitrary bodies,
 * methods, paths and headers; requests split at random byte offsets; bodies cut off mid-way;
 * oversized bodies; hundreds of idle connections; an NDJSON reader that never reads. Throughout, the
 * daemon answers with 200 (a valid batch) or a 4xx/5xx carrying Runware's error shape, never
 * crashes, keeps serving, never forwards or echoes an `apiKey`, never logs its own key (logs
 * captured at `trace`), and its memory stays bounded.
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
  for (const arb of [bodies, methods, paths, headers, browser, taskLike, withApiKey] as Array<fc.Arbitrary<unknown>>)
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
    // Big results (base64 PNGs) so the unread answer outgrows every socket buffer.
    const tasks = Array.from({ length: 24 }, () =>
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
      expect(lines.at(-1)).toMatchObject({ done: true, tasks: 24, completed: 24, results: 96 });
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
