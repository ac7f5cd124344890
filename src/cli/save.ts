/**
 * `--out DIR`: every output file of every result saved (outputs.ts says which and under what
 * name). A URL is streamed to disk (a 500 MB video never sits in memory), every file is written to
 * a temporary name beside its final one and renamed when complete (a reader never sees half a
 * file), and a failed download is retried a bounded number of times. The answer printed afterwards
 * names each saved path in the item's `savedFiles`.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream, rmSync } from "node:fs";
import { mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Envelope, ResultItem } from "../client/index.js";
import { ClientError } from "../client/index.js";
import { extOfMime, sniff } from "../util/file-type.js";
import { say } from "./args.js";
import { outputsOf, type Output } from "./outputs.js";

/** Why: a CDN blip or a 503 is usually gone within a second; more attempts only delay a real failure. */
export const DOWNLOAD_DEFAULTS = {
  /** Attempts per file, the first included. */
  attempts: 3,
  /** Wait before the second attempt, doubled for each further one. */
  retryMs: 250,
};

/** HTTP statuses worth another try (the server may answer next time); any other failure is final. */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

export class DownloadError extends ClientError {
  constructor(
    readonly url: string,
    why: string,
  ) {
    super("downloadFailed", `could not download ${url}: ${why}`);
  }
}

export interface SaveOptions {
  attempts?: number;
  retryMs?: number;
}

/** Saves outputs into one directory; names already used in this run get `-2`, `-3`, ... (several texts of one task). */
export class Saver {
  private readonly used = new Set<string>();
  /** Temporary files being written now, removed by `discardPartial` when the process is interrupted. */
  private readonly partial = new Set<string>();
  private readonly attempts: number;
  private readonly retryMs: number;

  constructor(
    private readonly dir: string,
    opts: SaveOptions = {},
  ) {
    this.attempts = Math.max(1, opts.attempts ?? DOWNLOAD_DEFAULTS.attempts);
    this.retryMs = opts.retryMs ?? DOWNLOAD_DEFAULTS.retryMs;
  }

  /**
   * Save every file of `item`; the item back with `savedFiles` (the paths) when it had any, and
   * `saveErrors` (`{field, message}`) for files that could not be saved. Never throws for one file.
   */
  async save(item: ResultItem): Promise<ResultItem> {
    const outputs = outputsOf(item);
    if (outputs.length === 0) return item;
    const savedFiles: string[] = [];
    const saveErrors: Array<{ field: string; message: string }> = [];
    for (const o of outputs) {
      try {
        await mkdir(this.dir, { recursive: true });
        savedFiles.push(await this.saveOne(o));
      } catch (err) {
        saveErrors.push({ field: o.field, message: messageOf(err) });
      }
    }
    return { ...item, ...(savedFiles.length ? { savedFiles } : {}), ...(saveErrors.length ? { saveErrors } : {}) };
  }

  private async saveOne(o: Output): Promise<string> {
    const tmp = join(this.dir, `.${o.name}.${randomBytes(4).toString("hex")}.part`);
    this.partial.add(tmp);
    try {
      const ext = o.source.form === "url" ? await this.download(o.source.url, tmp, o.ext) : await writeDecoded(o, tmp);
      const path = join(this.dir, `${this.unique(o.name, ext)}.${ext}`);
      await rename(tmp, path);
      return path;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    } finally {
      this.partial.delete(tmp);
    }
  }

  /** Remove the files still being written (synchronously: called on Ctrl-C right before exiting). */
  discardPartial(): void {
    for (const tmp of this.partial) rmSync(tmp, { force: true });
    this.partial.clear();
  }

  private unique(name: string, ext: string): string {
    let candidate = name;
    for (let n = 2; this.used.has(`${candidate}.${ext}`); n++) candidate = `${name}-${n}`;
    this.used.add(`${candidate}.${ext}`);
    return candidate;
  }

  /** Stream `url` into `tmp`; resolves with the file's extension. */
  private async download(url: string, tmp: string, ext: string | undefined): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      let retryable = true;
      try {
        const res = await fetch(url);
        if (!res.ok || !res.body) {
          retryable = RETRYABLE.has(res.status);
          await res.body?.cancel();
          throw new DownloadError(url, `HTTP ${res.status}`);
        }
        await pipeline(Readable.fromWeb(res.body), createWriteStream(tmp));
        return ext ?? extOfMime(res.headers.get("content-type")) ?? extOfUrl(url) ?? (await sniffFile(tmp));
      } catch (err) {
        if (!retryable || attempt >= this.attempts) throw err instanceof DownloadError ? err : new DownloadError(url, messageOf(err));
        await new Promise((r) => setTimeout(r, this.retryMs * 2 ** (attempt - 1)));
      }
    }
  }
}

/** `--out` for a whole answer: every item saved in order, each saved path said on stderr. */
export async function saveAll(env: Envelope, dir: string): Promise<{ env: Envelope; failed: boolean }> {
  const saver = new Saver(dir);
  const data: ResultItem[] = [];
  let failed = false;
  for (const item of env.data) {
    const saved = await saver.save(item);
    for (const path of (saved["savedFiles"] as string[] | undefined) ?? []) say(`saved ${path}`);
    for (const e of (saved["saveErrors"] as Array<{ message: string }> | undefined) ?? []) {
      failed = true;
      say(`runware: not saved: ${e.message}`);
    }
    data.push(saved);
  }
  return { env: { ...env, data }, failed };
}

async function writeDecoded(o: Output, tmp: string): Promise<string> {
  const s = o.source;
  if (s.form === "text") {
    await writeFile(tmp, s.text);
    return o.ext ?? "txt";
  }
  let bytes: Buffer;
  let mime: string | undefined;
  if (s.form === "base64") bytes = Buffer.from(s.base64, "base64");
  else {
    const m = /^data:([^;,]*)((?:;[^;,]*)*?)(;base64)?,(.*)$/s.exec(s.form === "dataURI" ? s.uri : "");
    if (!m) throw new ClientError("badOutput", `${o.field} is not a data URI`);
    mime = m[1];
    bytes = m[3] ? Buffer.from(m[4] ?? "", "base64") : Buffer.from(decodeURIComponent(m[4] ?? ""));
  }
  await writeFile(tmp, bytes);
  return o.ext ?? extOfMime(mime) ?? sniff(bytes).ext;
}

function extOfUrl(url: string): string | undefined {
  try {
    return /\.([a-z0-9]{2,5})$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  } catch {
    return undefined;
  }
}

async function sniffFile(path: string): Promise<string> {
  const fh = await open(path, "r");
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return sniff(head.subarray(0, bytesRead)).ext;
  } finally {
    await fh.close();
  }
}

function messageOf(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return err instanceof Error ? `${err.message}${cause}` : String(err);
}
