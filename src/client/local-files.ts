/**
 * Local files as media inputs (issue 14): where a task's media input (protocol/task-kinds.ts
 * MEDIA_INPUTS) holds a local path or a `file://` URI, the file is read and sent as a data URI, as
 * the official TypeScript SDK's `encodeLocalFiles` does. Runware takes a URL, base64, a data URI or
 * a UUID there (docs/protocol.md §8), so anything else is left as it is. Loaded only when asked
 * (the CLI always; the Node client with `readLocalFiles: true`: a server must not read paths its
 * users typed).
 */
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { extname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { forEachMediaInput } from "../protocol/media-inputs.js";

const MIME: Readonly<Record<string, string>> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".bmp": "image/bmp",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
  ".mp4": "video/mp4",
  ".mov": "video/quicktime",
  ".webm": "video/webm",
  ".mp3": "audio/mpeg",
  ".wav": "audio/wav",
  ".flac": "audio/flac",
  ".ogg": "audio/ogg",
  ".m4a": "audio/mp4",
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Longer than any path a user types; shorter than any base64 image. */
const MAX_PATH_CHARS = 4096;

/**
 * Whether a media input names a local file: a `file://` URI, or a short string that is no URL, data
 * URI or UUID and starts like a path (`/`, `./`, `../`, `~/`) or ends in a file extension. Base64
 * never holds a `.`, so `/9j/…` (a JPEG's base64) is a path only if it exists.
 */
export function localPathOf(value: string): { path: string; mustExist: boolean } | undefined {
  if (value.startsWith("file://")) return { path: fileURLToPath(value), mustExist: true };
  if (value.length > MAX_PATH_CHARS || value.includes("://") || value.startsWith("data:") || UUID.test(value)) return undefined;
  const hasExt = /\.[a-z0-9]{2,5}$/i.test(value);
  if (/^(\.{1,2}\/|~\/)/.test(value) || hasExt) return { path: value, mustExist: true };
  if (value.startsWith("/")) return { path: value, mustExist: false };
  return undefined;
}

export class LocalFileError extends Error {
  readonly code = "localFile";
  constructor(readonly problems: readonly string[]) {
    super(problems.join("; "));
    this.name = "LocalFileError";
  }
}

export interface LocalFileOptions {
  /** Relative paths are resolved against this directory (a task file's; else the working directory). */
  baseDir?: string;
  /** A file whose data URI is larger than this is refused (the daemon's body limit). */
  maxBytes?: number;
  /** Prefix of each problem, e.g. `task 2` or `line 7`. */
  label?: string;
  /** Check only (exists, is a file, fits): read nothing and change nothing (`--validate`). */
  checkOnly?: boolean;
}

/** Whether any media input of `task` names a local file (no I/O beyond nothing: a cheap check before asking the daemon its limit). */
export function hasLocalFiles(task: Record<string, unknown>): boolean {
  let found = false;
  forEachMediaInput(task, (v) => {
    if (localPathOf(v)?.mustExist) found = true;
    return undefined;
  });
  return found;
}

/**
 * The task with every local file input replaced by its data URI, or a LocalFileError listing every
 * problem (missing, a directory, too large). `task` is not changed.
 */
export async function readLocalFiles(task: Record<string, unknown>, opts: LocalFileOptions = {}): Promise<Record<string, unknown>> {
  const out = structuredClone(task);
  const found: Array<{ where: string; path: string; mustExist: boolean; set: (uri: string) => void }> = [];
  const replacements = new Map<string, string>();
  forEachMediaInput(out, (value, where) => {
    const local = localPathOf(value);
    if (!local) return undefined;
    const path = local.path.startsWith("~/") ? resolve(homedir(), local.path.slice(2)) : resolve(opts.baseDir ?? process.cwd(), local.path);
    found.push({
      where,
      path: isAbsolute(path) ? path : resolve(path),
      mustExist: local.mustExist,
      set: (uri) => replacements.set(where, uri),
    });
    return undefined;
  });
  const problems: string[] = [];
  const prefix = opts.label ? `${opts.label}: ` : "";
  for (const f of found) {
    let info;
    try {
      info = await stat(f.path);
    } catch {
      if (f.mustExist) problems.push(`${prefix}${f.where}: no such file ${f.path}`);
      continue;
    }
    if (!info.isFile()) {
      problems.push(`${prefix}${f.where}: ${f.path} is not a file`);
      continue;
    }
    const mime = MIME[extname(f.path).toLowerCase()] ?? "application/octet-stream";
    const encoded = `data:${mime};base64,`.length + Math.ceil(info.size / 3) * 4;
    if (opts.maxBytes !== undefined && encoded > opts.maxBytes) {
      problems.push(
        `${prefix}${f.where}: ${f.path} is ${info.size} bytes, over the daemon's request limit once encoded (${opts.maxBytes} bytes); upload it first ('runware upload ${f.path}') and pass its UUID`,
      );
      continue;
    }
    if (!opts.checkOnly) f.set(`data:${mime};base64,${(await readFile(f.path)).toString("base64")}`);
  }
  if (problems.length > 0) throw new LocalFileError(problems);
  forEachMediaInput(out, (_value, where) => replacements.get(where));
  return out;
}

/**
 * The task with every relative local path made absolute against `baseDir` (a task file's
 * directory), reading nothing: so paths in a file mean the same whatever the working directory.
 */
export function absolutizeLocalPaths(task: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const out = structuredClone(task);
  forEachMediaInput(out, (value) => {
    const local = localPathOf(value);
    if (!local || value.startsWith("file://") || value.startsWith("~/") || isAbsolute(local.path)) return undefined;
    return resolve(baseDir, local.path);
  });
  return out;
}

/** Every task with its local files read (see readLocalFiles); one LocalFileError naming each task's problems. */
export async function readAllLocalFiles(
  tasks: readonly Record<string, unknown>[],
  opts: Omit<LocalFileOptions, "label"> & { labelOf?: (index: number) => string },
): Promise<Record<string, unknown>[]> {
  const problems: string[] = [];
  const out: Record<string, unknown>[] = [];
  for (const [i, task] of tasks.entries()) {
    try {
      out.push(await readLocalFiles(task, { ...opts, label: opts.labelOf?.(i) ?? `task ${i}` }));
    } catch (err) {
      if (!(err instanceof LocalFileError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length > 0) throw new LocalFileError(problems);
  return out;
}
