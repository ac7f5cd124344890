/**
 * Generated videos and audio by id, for the simulator's HTTP server. Only which file each id is
 * (formats.ts) is kept; entries expire after the retention time like images (images.ts).
 */
import type { MediaFile } from "./formats.js";

export class MediaStore {
  /** Insertion-ordered, so the oldest entries are always at the front. */
  private readonly recent = new Map<string, { file: MediaFile; at: number }>();

  constructor(private readonly retentionMs: () => number) {}

  add(id: string, file: MediaFile): void {
    this.sweep();
    this.recent.set(id, { file, at: Date.now() });
  }

  /** The file for `/<kind>/<id>.<ext>`, or undefined when unknown, expired, or asked with another kind or extension. */
  get(kind: string, id: string, ext: string): MediaFile | undefined {
    this.sweep();
    const file = this.recent.get(id)?.file;
    return file && file.kind === kind && file.ext === ext ? file : undefined;
  }

  private sweep(): void {
    const cutoff = Date.now() - this.retentionMs();
    for (const [id, entry] of this.recent) {
      if (entry.at >= cutoff) break;
      this.recent.delete(id);
    }
  }
}

/** Where a generated file is served: `http://host:port/video/<id>.mp4`, `/audio/<id>.mp3`. */
export function mediaUrl(httpUrl: string, id: string, file: MediaFile): string {
  return `${httpUrl}/${file.kind}/${id}.${file.ext}`;
}

/** `/video/<id>.<ext>` or `/audio/<id>.<ext>`. */
export const MEDIA_PATH = /^\/(video|audio)\/([A-Za-z0-9-]+)\.([a-z0-9]+)$/;
