/**
 * Worker thread of the pressure phase: `GET /v1/status` on a fresh connection every `everyMs`, each
 * timed on this thread's own event loop, so the bench's busy main thread (gigabytes of answers to
 * read) does not add its delays to the daemon's. Each poll is appended to `file` as a JSON line;
 * the bench stops the worker with terminate() and reads the file.
 */
import { appendFileSync } from "node:fs";
import http from "node:http";
import { workerData } from "node:worker_threads";

export interface Poll {
  /** Date.now() when the poll was sent. */
  t: number;
  ms: number;
  /** HTTP status; 0: no answer (refused, cut, or past the timeout). */
  code: number;
}

export interface PollerConfig {
  socket: string;
  file: string;
  everyMs: number;
  timeoutMs: number;
}

function statusOnce(socket: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: "/v1/status", agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", () => resolve(0));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

const { socket, file, everyMs, timeoutMs } = workerData as PollerConfig;
for (;;) {
  const t = Date.now();
  const t0 = performance.now();
  const code = await statusOnce(socket, timeoutMs);
  const ms = performance.now() - t0;
  const poll: Poll = { t, ms, code };
  appendFileSync(file, `${JSON.stringify(poll)}\n`);
  await new Promise((r) => setTimeout(r, Math.max(0, everyMs - ms)));
}
