/**
 * The client's keep-alive transport (`connect({ keepAlive: true })`): node:http with a keep-alive
 * Agent, for long-lived callers that make many requests. Loaded only when asked for: a one-shot
 * script should not pay node:http's start-up (see http1.ts).
 */
import { Agent, request } from "node:http";
import type { Http1Response } from "./http1.js";

const agents = new Map<string, Agent>();

function agentFor(socketPath: string): Agent {
  let a = agents.get(socketPath);
  if (!a) {
    a = new Agent({ keepAlive: true, maxSockets: 256 });
    // An idle pooled socket must not keep a finished script alive; one in use must.
    a.on("free", (socket) => socket.unref());
    agents.set(socketPath, a);
  }
  return a;
}

export function pooledRequest(
  socketPath: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  payload?: string,
): Promise<Http1Response> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        agent: agentFor(socketPath),
        method,
        path,
        headers: {
          host: "localhost",
          ...(payload !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) } : {}),
          ...headers,
        },
      },
      (res) => {
        const hdrs: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) hdrs[k] = Array.isArray(v) ? v.join(", ") : v;
        resolve({ status: res.statusCode ?? 500, headers: hdrs, body: res as AsyncIterable<Buffer> });
      },
    );
    req.on("error", reject);
    req.on("socket", (s) => s.ref());
    req.end(payload);
  });
}
