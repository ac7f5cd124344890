/**
 * The client's own HTTP/1.1 (src/client/http1.ts) against a raw server that writes crafted
 * responses, split at every byte boundary: what Node's HTTP server may send, framed three ways.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server, type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { http1Request, type Http1Response } from "../../src/client/http1.js";

let server: Server | undefined;
let dir: string | undefined;
let lastRequest = "";

afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A server that answers every request with `raw`, written one byte at a time, then closes (or not). */
async function serve(raw: string, opts: { close?: boolean; bytewise?: boolean } = {}): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), "http1-"));
  const path = join(dir, "s.sock");
  server = createServer((sock: Socket) => {
    sock.on("error", () => undefined); // the client may hang up first; that is its right
    sock.once("data", (d) => {
      lastRequest = d.toString();
      answer(sock, Buffer.from(raw), opts).catch(() => sock.destroy());
    });
  });
  await new Promise<void>((r) => server!.listen(path, () => r()));
  return path;
}

async function answer(sock: Socket, bytes: Buffer, opts: { close?: boolean; bytewise?: boolean }): Promise<void> {
  if (opts.bytewise) {
    for (const b of bytes) {
      if (sock.destroyed) return;
      sock.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
  } else sock.write(bytes);
  if (opts.close !== false) sock.end();
}

async function text(res: Http1Response): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of res.body) parts.push(c);
  return Buffer.concat(parts).toString();
}

describe("client http1", () => {
  it("http1 - reads a Content-Length body split at every byte, and sends a well-formed request", async () => {
    const path = await serve('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}', {
      bytewise: true,
      close: false,
    });
    const res = await http1Request(path, "POST", "/v1", { accept: "application/x-ndjson" }, '[{"a":1}]');
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(await text(res)).toBe('{"ok":true}');
    expect(lastRequest).toMatch(/^POST \/v1 HTTP\/1\.1\r\n/);
    expect(lastRequest).toContain("content-length: 9\r\n");
    expect(lastRequest).toContain("connection: close\r\n");
    expect(lastRequest.endsWith('\r\n\r\n[{"a":1}]')).toBe(true);
  });

  it("http1 - decodes a chunked body split at every byte, chunk by chunk", async () => {
    const body = '5\r\nhello\r\n1;ext=1\r\n \r\nd\r\nworld\n{"x":1}\r\n0\r\n\r\n';
    const path = await serve(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}`, { bytewise: true, close: false });
    const res = await http1Request(path, "GET", "/v1/status", {});
    expect(await text(res)).toBe('hello world\n{"x":1}');
  });

  it("http1 - a body without framing ends with the connection", async () => {
    const path = await serve("HTTP/1.1 404 Not Found\r\n\r\nnot here");
    const res = await http1Request(path, "GET", "/nope", {});
    expect(res.status).toBe(404);
    expect(await text(res)).toBe("not here");
  });

  it("http1 - a chunked body cut short is an error, not a short answer", async () => {
    const path = await serve("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    const res = await http1Request(path, "GET", "/v1", {});
    await expect(text(res)).rejects.toThrow(/cut short/);
  });

  it("http1 - a connection closed before any answer rejects; a missing socket rejects with ENOENT", async () => {
    const path = await serve("");
    await expect(http1Request(path, "GET", "/v1", {})).rejects.toMatchObject({ code: "ECONNRESET" });
    await expect(http1Request(join(tmpdir(), "no-such-dir-xyz", "s.sock"), "GET", "/", {})).rejects.toMatchObject({ code: "ENOENT" });
  });
});
