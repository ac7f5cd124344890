/**
 * Videos, audio and stored media by id, for the simulator's HTTP server: generated results (only
 * which file each id is, formats.ts) and `mediaStorage` uploads (their bytes). A known id is a valid
 * media input of a later task (inputs.ts); entries expire after the retention time like images
 * (images.ts), and `mediaStorage` `delete` removes one.
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

  has(id: string): boolean {
    this.sweep();
    return this.recent.has(id);
  }

  /** Forget `id`; false when it was not known. */
  delete(id: string): boolean {
    return this.recent.delete(id);
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

/** Where a file is served: `http://host:port/video/<id>.mp4`, `/audio/<id>.mp3`, `/media/<id>.<ext>`. */
export function mediaUrl(httpUrl: string, id: string, file: MediaFile): string {
  return `${httpUrl}/${file.kind}/${id}.${file.ext}`;
}

/** `/video/<id>.<ext>`, `/audio/<id>.<ext>` or `/media/<id>.<ext>`. */
export const MEDIA_PATH = /^\/(video|audio|media)\/([A-Za-z0-9-]+)\.([a-z0-9]+)$/;
