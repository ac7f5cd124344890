/**
 * The files in one result item (docs/protocol.md §3.4, §8; runware-modalities "Media in and out"):
 * images (`imageURL | imageBase64Data | imageDataURI`), video and audio (`videoURL`, `audioURL` and
 * their base64 / data URI forms), stored media (`mediaURL`), 3D (`outputs.files[].url`) and text
 * (`text`: textInference, promptEnhance, caption). Pure: what to save and under which name; the
 * saving is save.ts.
 *
 * Names: the output's own UUID (`imageUUID`, `videoUUID`, ...; else the taskUUID), with `-<n>`
 * (from 1) when one item holds several files; the extension comes from the format when the file
 * is fetched or decoded (util/file-type.ts), `.txt` for text.
 */
import type { ResultItem } from "../client/index.js";

export type OutputSource =
  | { readonly form: "url"; readonly url: string }
  | { readonly form: "base64"; readonly base64: string }
  | { readonly form: "dataURI"; readonly uri: string }
  | { readonly form: "text"; readonly text: string };

export interface Output {
  /** The field it came from, e.g. `imageURL` or `outputs.files[1].url`. */
  readonly field: string;
  /** File name without extension. */
  readonly name: string;
  readonly source: OutputSource;
  /** The extension when the field says it (text, a 3D file's `format`); otherwise found when saved. */
  readonly ext?: string;
}

/** Each media kind's fields: its UUID and the three forms of its bytes. */
const MEDIA_KINDS = ["image", "video", "audio", "media"] as const;

function mediaSource(item: ResultItem, kind: string): { field: string; source: OutputSource } | undefined {
  const url = item[`${kind}URL`];
  if (typeof url === "string" && url !== "") return { field: `${kind}URL`, source: { form: "url", url } };
  const b64 = item[`${kind}Base64Data`];
  if (typeof b64 === "string" && b64 !== "") return { field: `${kind}Base64Data`, source: { form: "base64", base64: b64 } };
  const uri = item[`${kind}DataURI`];
  if (typeof uri === "string" && uri !== "") return { field: `${kind}DataURI`, source: { form: "dataURI", uri } };
  return undefined;
}

function filesOf(item: ResultItem): Array<{ field: string; url: string; ext?: string }> {
  const outputs = item["outputs"];
  if (typeof outputs !== "object" || outputs === null) return [];
  const files = (outputs as Record<string, unknown>)["files"];
  if (!Array.isArray(files)) return [];
  return files.flatMap((f: unknown, i) => {
    if (typeof f !== "object" || f === null) return [];
    const { url, format } = f as Record<string, unknown>;
    if (typeof url !== "string" || url === "") return [];
    const ext = typeof format === "string" && /^[a-z0-9]{1,8}$/i.test(format) ? format.toLowerCase() : undefined;
    return [{ field: `outputs.files[${i}].url`, url, ...(ext ? { ext } : {}) }];
  });
}

/** Every file `item` carries, named; none for an item with no output (an acknowledgement, a status). */
export function outputsOf(item: ResultItem): Output[] {
  const found: Array<{ field: string; source: OutputSource; uuid: unknown; ext?: string }> = [];
  for (const kind of MEDIA_KINDS) {
    const m = mediaSource(item, kind);
    if (m) found.push({ ...m, uuid: item[`${kind}UUID`] });
  }
  for (const f of filesOf(item))
    found.push({ field: f.field, source: { form: "url", url: f.url }, uuid: undefined, ...(f.ext ? { ext: f.ext } : {}) });
  if (typeof item["text"] === "string")
    found.push({ field: "text", source: { form: "text", text: item["text"] }, uuid: undefined, ext: "txt" });
  const several = found.length > 1;
  return found.map((f, i) => {
    const base = safeName(f.uuid) ?? safeName(item.taskUUID) ?? "result";
    return { field: f.field, name: several ? `${base}-${i + 1}` : base, source: f.source, ...(f.ext ? { ext: f.ext } : {}) };
  });
}

/** A UUID-like value usable as a file name (never a path: no separators, no dots). */
function safeName(v: unknown): string | undefined {
  return typeof v === "string" && /^[\w-]{1,64}$/.test(v) ? v : undefined;
}
