/**
 * The saver behind `--out` (src/cli/save.ts) against real HTTP servers on loopback: bounded
 * retries of transient failures only, atomic files, names for several files in one result (3D),
 * and a large download streamed to disk with the process's memory far below the file's size.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { outputsOf } from "../../src/cli/outputs.js";
import { Saver } from "../../src/cli/save.js";
import { Cleanup } from "../helpers/cleanup.js";
import { tempDir } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function serve(handler: (path: string, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => handler(req.url ?? "/", res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanup.add(server, (s) => new Promise<void>((r) => s.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const item = (fields: Record<string, unknown>) => ({
  taskType: "videoInference",
  taskUUID: "3b0cf5a4-1d6c-4c55-9a57-6d1f0f4c2a11",
  ...fields,
});

describe("cli - saving outputs", () => {
  it("download - a 503 is retried and the file arrives; a 404 is not retried; nothing half-written is left", async () => {
    const hits = new Map<string, number>();
    const base = await serve((path, res) => {
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      if (path === "/flaky.mp4" && n < 3) res.writeHead(503).end();
      else if (path === "/flaky.mp4") res.writeHead(200, { "content-type": "video/mp4" }).end(Buffer.from("\0\0\0\x18ftypisom"));
      else res.writeHead(404).end();
    });
    const dir = tempDir(cleanup);
    const saver = new Saver(dir, { retryMs: 1 });
    const ok = await saver.save(item({ videoUUID: "v1", videoURL: `${base}/flaky.mp4` }));
    expect(ok["savedFiles"]).toEqual([join(dir, "v1.mp4")]);
    expect(hits.get("/flaky.mp4")).toBe(3);
    const missing = await saver.save(item({ videoUUID: "v2", videoURL: `${base}/gone.mp4` }));
    expect(missing["saveErrors"]).toEqual([{ field: "videoURL", message: expect.stringContaining("HTTP 404") }]);
    expect(hits.get("/gone.mp4")).toBe(1);
    expect(readdirSync(dir)).toEqual(["v1.mp4"]);
  });

  it("download - retries stop at the bound: a server that always fails is asked exactly `attempts` times", async () => {
    let hits = 0;
    const base = await serve((_p, res) => {
      hits++;
      res.writeHead(502).end();
    });
    const saver = new Saver(tempDir(cleanup), { retryMs: 1, attempts: 3 });
    const r = await saver.save(item({ videoUUID: "v3", videoURL: `${base}/x.mp4` }));
    expect(r["saveErrors"]).toHaveLength(1);
    expect(hits).toBe(3);
  });

  it("outputs - a result with several 3D files names them <uuid>-1, <uuid>-2 with the format's extension", async () => {
    const base = await serve((path, res) => res.writeHead(200).end(`file ${path}`));
    const three = {
      taskType: "3dInference",
      taskUUID: "0b8f9a52-7f0e-4d36-8c3a-5d9b7e1a2c44",
      outputs: { files: [{ url: `${base}/mesh`, format: "GLB" }, { url: `${base}/tex.png` }] },
    };
    expect(outputsOf(three).map((o) => [o.name, o.field])).toEqual([
      [`${three.taskUUID}-1`, "outputs.files[0].url"],
      [`${three.taskUUID}-2`, "outputs.files[1].url"],
    ]);
    const dir = tempDir(cleanup);
    const r = await new Saver(dir).save(three);
    expect(r["savedFiles"]).toEqual([join(dir, `${three.taskUUID}-1.glb`), join(dir, `${three.taskUUID}-2.png`)]);
    expect(readFileSync(join(dir, `${three.taskUUID}-1.glb`), "utf8")).toBe("file /mesh");
  });

  it("download - a 256 MB file is streamed to disk: the saving process's peak RSS stays far below the file's size", async () => {
    const SIZE = 256 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const base = await serve((_p, res) => {
      res.writeHead(200, { "content-type": "video/mp4", "content-length": SIZE });
      let sent = 0;
      const pump = (): void => {
        while (sent < SIZE) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const dir = tempDir(cleanup);
    const script = join(dir, "save.mjs");
    const saveModule = new URL("../../dist/src/cli/save.js", import.meta.url).href;
    writeFileSync(
      script,
      `import { Saver } from ${JSON.stringify(saveModule)};
const r = await new Saver(${JSON.stringify(join(dir, "out"))}).save({ taskType: "videoInference", taskUUID: "t", videoUUID: "big", videoURL: ${JSON.stringify(`${base}/big.mp4`)} });
process.stdout.write(JSON.stringify({ r, maxRssKb: process.resourceUsage().maxRSS }));`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 60_000 });
    const { r, maxRssKb } = JSON.parse(stdout) as { r: Record<string, unknown>; maxRssKb: number };
    expect(r["savedFiles"]).toEqual([join(dir, "out", "big.mp4")]);
    expect(statSync(join(dir, "out", "big.mp4")).size).toBe(SIZE);
    expect(maxRssKb * 1024).toBeLessThan(SIZE / 2);
  }, 60_000);
});
