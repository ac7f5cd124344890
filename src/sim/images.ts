/**
 * Images by UUID: generated ones (only the recipe, rendered when their URL is fetched, so a
 * benchmark producing thousands of URL results costs no rendering) and uploaded ones (`imageUpload`:
 * the bytes as sent). Every image the simulator knows is also a valid image input of a later task
 * (inputs.ts). Entries expire after the retention time (Runware URLs expire too: `ttl`,
 * docs/protocol.md §3.1); pinned entries (catalogue hero images) never do.
 */
import { renderImage, type RenderSpec } from "./render.js";

type Entry = { spec: RenderSpec } | { bytes: Buffer; type: string; ext: string };

export interface ImageFile {
  readonly bytes: Buffer;
  readonly type: string;
  readonly ext: string;
}

export class ImageStore {
  /** Insertion-ordered, so the oldest entries are always at the front. */
  private readonly recent = new Map<string, { entry: Entry; at: number }>();
  private readonly pinned = new Map<string, RenderSpec>();

  constructor(private readonly retentionMs: () => number) {}

  add(id: string, spec: RenderSpec): void {
    this.put(id, { spec });
  }

  /** An uploaded image, kept as sent; `ext` is where its URL points (`/image/<id>.<ext>`). */
  addBytes(id: string, bytes: Buffer, type: string, ext: string): void {
    this.put(id, { bytes, type, ext });
  }

  pin(id: string, spec: RenderSpec): void {
    this.pinned.set(id, spec);
  }

  has(id: string): boolean {
    this.sweep();
    return this.pinned.has(id) || this.recent.has(id);
  }

  /** The recipe of a generated image (an upscale keeps its subject), undefined for uploads and unknown ids. */
  spec(id: string): RenderSpec | undefined {
    this.sweep();
    const entry = this.recent.get(id)?.entry;
    return this.pinned.get(id) ?? (entry && "spec" in entry ? entry.spec : undefined);
  }

  /** The file for `/image/<id>.<ext>`, or undefined when unknown, expired or asked with another extension. */
  file(id: string, ext: string): ImageFile | undefined {
    this.sweep();
    const pinned = this.pinned.get(id);
    const entry: Entry | undefined = pinned ? { spec: pinned } : this.recent.get(id)?.entry;
    if (!entry) return undefined;
    if ("spec" in entry) return ext === "png" ? { bytes: renderImage(entry.spec), type: "image/png", ext } : undefined;
    return entry.ext === ext ? entry : undefined;
  }

  private put(id: string, entry: Entry): void {
    this.sweep();
    this.recent.set(id, { entry, at: Date.now() });
  }

  private sweep(): void {
    const cutoff = Date.now() - this.retentionMs();
    for (const [id, entry] of this.recent) {
      if (entry.at >= cutoff) break;
      this.recent.delete(id);
    }
  }
}

/** Where an image is served: `http://host:port/image/<id>.png` (uploads keep their own extension). */
export function imageUrl(httpUrl: string, id: string, ext = "png"): string {
  return `${httpUrl}/image/${id}.${ext}`;
}
