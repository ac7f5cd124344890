/**
 * Issue 17, first part: the loopback TCP listener behind the local token, with real daemon
 * processes and the simulator. A raw `ws` client that behaves like the Python SDK (auth first,
 * then its ping/pong check, then tasks) and plain HTTP over TCP work with the token, get 401
 * without it, and nothing reaches Runware then; a task before authentication is refused; a
 * non-loopback --listen exits 2; the token is created 0600 once, kept, and never logged.
 */
import { randomBytes, randomUUID } from "node:crypto";
import * as net from "node:net";
import { readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SimServer } from "../../src/sim/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import { runCli } from "../helpers/cli.js";
import { getJson, postTasks, spawnDaemon, startRig, submissions, tempDir, TEST_KEY, type Child } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";
import { WsTestClient, type Obj } from "../helpers/ws-client.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const START_MS = 15_000;

interface Listening {
  daemon: Child;
  base: string;
  token: string;
  tokenFile: string;
  socketPath: string;
}

async function listening(sim: SimServer, dir: string): Promise<Listening> {
  const socketPath = join(dir, "run", "daemon.sock");
  const tokenFile = join(dir, "secret", "token");
  const daemon = spawnDaemon(cleanup, {
    upstream: sim.url,
    socketPath,
    flags: { "state-dir": join(dir, "state"), listen: "127.0.0.1:0", "token-file": tokenFile },
  });
  const line = await daemon.waitForLine("listening on tcp", START_MS);
  const port = /127\.0\.0\.1:(\d+)/.exec(line)?.[1];
  await waitFor(async () => (await getJson(socketPath, "/v1/status")).json?.["upstream"]?.state === "ready", "upstream ready", START_MS);
  return { daemon, base: `127.0.0.1:${port}`, token: readFileSync(tokenFile, "utf8").trim(), tokenFile, socketPath };
}

async function http(l: Listening, path: string, init: RequestInit = {}): Promise<{ status: number; json: Obj }> {
  const r = await fetch(`http://${l.base}${path}`, init);
  return { status: r.status, json: (await r.json()) as Obj };
}

const post = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

describe("tcp listener - the local API on loopback behind the token", () => {
  it("tcp - HTTP works with the token in the header or as a first authentication task; 401 without it, nothing sent upstream", async () => {
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    const l = await listening(sim, tempDir(cleanup, "rwd-tcp-"));
    const before = submissions(sim);
    for (const [init, why] of [
      [post([imageTask()]), "no token"],
      [post([imageTask()], { authorization: "Bearer not-the-token" }), "wrong bearer"],
      [post([{ taskType: "authentication", apiKey: "nope" }, imageTask()]), "wrong token in the body"],
    ] as const) {
      const r = await http(l, "/v1", init);
      expect(r.status, why).toBe(401);
      expect(r.json["errors"][0], why).toMatchObject({ code: "invalidApiKey", parameter: "apiKey", taskType: "authentication" });
    }
    expect((await http(l, "/v1/status")).status).toBe(401);
    expect(submissions(sim)).toBe(before);

    const viaHeader = await http(l, "/v1", post([imageTask()], { authorization: `Bearer ${l.token}` }));
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.json["data"][0]["imageURL"]).toMatch(/\.png$/);
    const viaTask = await http(l, "/v1", post([{ taskType: "authentication", apiKey: l.token }, imageTask()]));
    expect(viaTask.status).toBe(200);
    expect(viaTask.json["data"]).toHaveLength(1);
    const status = await fetch(`http://${l.base}/v1/status`, { headers: { authorization: `Bearer ${l.token}` } });
    expect(status.status).toBe(200);
    expect(await status.text()).not.toContain(l.token);
    // Browser requests stay refused, token or not.
    const fromPage = await http(l, "/v1/status", { headers: { authorization: `Bearer ${l.token}`, origin: "http://evil.example" } });
    expect(fromPage.status).toBe(403);
    // The Unix socket needs no token.
    expect((await getJson(l.socketPath, "/v1/status")).status).toBe(200);
  });

  it("tcp - a ws client like the Python SDK: authentication with the token, its ping check, a task; before authentication a task is refused; a wrong token closes", async () => {
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    const l = await listening(sim, tempDir(cleanup, "rwd-tcp-"));
    const before = submissions(sim);

    const early = cleanup.add(await WsTestClient.connect(`ws://${l.base}/v1`), (c) => c.close());
    const first = randomUUID();
    early.send([{ ...imageTask(), taskUUID: first }]);
    expect(await early.errorFor(first)).toMatchObject({ code: "missingApiKey", taskUUID: first });
    expect(submissions(sim)).toBe(before);

    const wrong = cleanup.add(await WsTestClient.connect(`ws://${l.base}/v1`), (c) => c.close());
    const refused = await wrong.authFrame("not-the-token");
    expect(refused.errors?.[0]).toMatchObject({ code: "invalidApiKey", taskType: "authentication" });
    expect((await wrong.closed).code).toBe(1008);

    const sdk = cleanup.add(await WsTestClient.connect(`ws://${l.base}/v1`), (c) => c.close());
    const session = await sdk.authenticate(l.token);
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    const mark = sdk.mark();
    sdk.send([{ taskType: "ping", ping: true }]);
    await sdk.waitFor((f) => (f.data ?? []).some((i) => i["taskType"] === "ping" && i["pong"] === true), { from: mark, what: "the pong" });
    const uuid = randomUUID();
    sdk.send([{ ...imageTask(), taskUUID: uuid }]);
    const [item] = await sdk.itemsFor(uuid, 1);
    expect(item?.["imageURL"]).toMatch(/\.png$/);
    expect(submissions(sim)).toBe(before + 1);
    expect(l.daemon.stdout() + l.daemon.stderr()).not.toContain(l.token);
  });

  it("tcp - the token file is made 0600 once and kept across restarts; it never appears in the logs", async () => {
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    const dir = tempDir(cleanup, "rwd-tcp-");
    const first = await listening(sim, dir);
    expect(statSync(first.tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "secret")).mode & 0o777).toBe(0o700);
    expect(first.token.length).toBeGreaterThanOrEqual(40);
    await http(first, "/v1", post([imageTask()], { authorization: "Bearer wrong" }));
    await first.daemon.waitForLine("local token check failed", 5_000);
    first.daemon.child.kill("SIGTERM");
    await first.daemon.exited;
    expect(first.daemon.stdout() + first.daemon.stderr()).not.toContain(first.token);
    const second = await listening(sim, dir);
    expect(second.token).toBe(first.token);
    expect((await http(second, "/v1/status", { headers: { authorization: `Bearer ${first.token}` } })).status).toBe(200);
  });

  it("tcp - nothing before the token costs the daemon: a reset during the check, labels, large or many frames, a wrong token then the right one", async () => {
    const rig = await startRig(cleanup, {
      flags: { listen: "127.0.0.1:0", "token-file": join(tempDir(cleanup), "token") },
      settings: { maxLabels: 2 },
    });
    const base = rig.daemon.tcpAddress!;
    const token = readFileSync(rig.cfg.tokenFile, "utf8").trim();
    // A burst of wrong tokens, then an upgrade with a wrong Bearer header reset while its answer waits.
    for (let i = 0; i < 8; i++) await fetch(`http://${base}/v1/status`, { headers: { authorization: "Bearer wrong" } });
    const raw = net.connect(Number(base.split(":")[1]), "127.0.0.1");
    await new Promise<void>((r) => raw.once("connect", () => r()));
    raw.write(
      `GET /v1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer wrong\r\n\r\n`,
    );
    await waitFor(() => rig.daemon.tcpAuthFailures >= 9, "the upgrade's token checked");
    raw.resetAndDestroy();
    // Upgrades refused before any token (404 here), reset by their peer as the answer goes out, on TCP and on the Unix socket.
    const upgrade = `GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    for (let i = 0; i < 20; i++) {
      const s = i % 2 === 0 ? net.connect(Number(base.split(":")[1]), "127.0.0.1") : net.connect(rig.socketPath);
      s.on("error", () => undefined);
      await new Promise<void>((r) => s.once("connect", () => r()));
      s.write(upgrade);
      if (i % 2 === 0) s.resetAndDestroy();
      else s.destroy();
    }
    // Still alive, and the right token is answered at once while wrong ones wait for their slots.
    const slow = Array.from({ length: 10 }, () =>
      fetch(`http://${base}/v1/status`, { headers: { authorization: "Bearer wrong" } }).then((r) => r.status),
    );
    let slowDone = 0;
    for (const p of slow) void p.then(() => slowDone++);
    const right = await fetch(`http://${base}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(right.status).toBe(200);
    expect(slowDone).toBeLessThan(10);
    expect(await Promise.all(slow)).toEqual(Array(10).fill(401));
    // Upgrades without a token take no label slot (maxLabels 2: unlabelled and one).
    const idle = await Promise.all([1, 2, 3].map((i) => WsTestClient.connect(`ws://${base}/v1?label=junk-${i}`)));
    for (const c of idle) cleanup.add(c, (x) => x.close());
    expect((await postTasks(rig.socketPath, [imageTask()], { "runware-label": "mine" })).status).toBe(200);
    // A large frame before authentication closes the connection.
    const big = cleanup.add(await WsTestClient.connect(`ws://${base}/v1`), (c) => c.close());
    big.send([{ taskType: "ping", ping: true, pad: "x".repeat(100_000) }]);
    expect((await big.closed).code).toBe(1008);
    // A wrong token closes it, and what came after it in the same breath is never looked at.
    const before = submissions(rig.sim);
    const wrong = cleanup.add(await WsTestClient.connect(`ws://${base}/v1`), (c) => c.close());
    wrong.send([{ taskType: "authentication", apiKey: "wrong" }]);
    wrong.send([{ taskType: "authentication", apiKey: token }]);
    wrong.send([imageTask()]);
    expect((await wrong.closed).code).toBe(1008);
    expect(submissions(rig.sim)).toBe(before);
  });

  it("tcp - a token file that is a symlink stops the start (exit 1, the reason on stderr) before anything dials Runware", async () => {
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    const dir = tempDir(cleanup, "rwd-tcp-");
    writeFileSync(join(dir, "known"), "a-token-someone-else-knows-123456\n");
    symlinkSync(join(dir, "known"), join(dir, "token"));
    const r = await runCli(
      cleanup,
      [
        "daemon",
        "--listen",
        "127.0.0.1:0",
        "--token-file",
        join(dir, "token"),
        "--upstream",
        sim.url,
        "--socket",
        join(dir, "d.sock"),
        "--no-journal",
      ],
      { env: { RUNWARE_API_KEY: TEST_KEY } },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("symlink is refused");
    expect(sim.counters.auths).toHaveLength(0);
  });

  it("tcp - a --listen address that is not loopback is a usage error (exit 2), before anything starts", async () => {
    for (const bad of ["0.0.0.0:8787", "192.168.1.5:8787", "localhost:8787", "127.0.0.1:99999"]) {
      const r = await runCli(cleanup, ["daemon", "--listen", bad, "--upstream", "ws://127.0.0.1:9/v1"], {
        env: { RUNWARE_API_KEY: TEST_KEY },
      });
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toContain("--listen");
    }
  });
});
