/**
 * Generated images by id. Only the recipe (prompt, seed, size) is stored; the PNG is rendered when
 * its URL is fetched, so a benchmark producing thousands of URL results costs no rendering.
 * Entries expire after the retention time (Runware URLs expire too: `ttl`, docs/protocol.md §3.1);
 * pinned entries (catalogue hero images) never do.
 */
import { renderImage, type RenderSpec } from "./render.js";

export class ImageStore {
  /** Insertion-ordered, so the oldest entries are always at the front. */
  private readonly recent = new Map<string, { spec: RenderSpec; at: number }>();
  private readonly pinned = new Map<string, RenderSpec>();

  constructor(private readonly retentionMs: () => number) {}

  add(id: string, spec: RenderSpec): void {
    this.sweep();
    this.recent.set(id, { spec, at: Date.now() });
  }

  pin(id: string, spec: RenderSpec): void {
    this.pinned.set(id, spec);
  }

  /** The PNG for `id`, or undefined when unknown or expired. */
  render(id: string): Buffer | undefined {
    this.sweep();
    const spec = this.pinned.get(id) ?? this.recent.get(id)?.spec;
    return spec ? renderImage(spec) : undefined;
  }

  private sweep(): void {
    const cutoff = Date.now() - this.retentionMs();
    for (const [id, entry] of this.recent) {
      if (entry.at >= cutoff) break;
      this.recent.delete(id);
    }
  }
}

/** Where an image is served: `http://host:port/image/<id>.png`. */
export function imageUrl(httpUrl: string, id: string): string {
  return `${httpUrl}/image/${id}.png`;
}
