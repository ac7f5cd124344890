/** The daemon's NDJSON answers (docs/local-api.md §2.2, §7.3), one parsed object per line, as they arrive. */
export async function* ndjsonLines<T>(body: AsyncIterable<Buffer>): AsyncGenerator<T> {
  let buf = "";
  const utf8 = new TextDecoder();
  for await (const bytes of body) {
    buf += utf8.decode(bytes, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) yield JSON.parse(line) as T;
    }
  }
}
