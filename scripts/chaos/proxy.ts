/**
 * A TCP proxy between the daemon and its upstream that fails the way networks do: `freeze()` stops
 * forwarding both ways while every socket stays open (a half-open link: a NAT entry expired, a cable
 * pulled, a laptop lid closed; no FIN, no RST, just silence), and `cut()` destroys both sides of
 * every connection at once. Only a heartbeat can find a frozen link (docs/local-api.md §3.7); a cut is seen at
 * once. Used by the chaos runner, the soak and test/reliability.
 */
import net from "node:net";

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  /** Writes and FINs that arrived while frozen, replayed in order on unfreeze. */
  held: Array<() => void>;
}

export interface ProxyCounters {
  /** Client connections accepted in total. */
  accepted: number;
  /** Pairs destroyed by `cut()`. */
  cut: number;
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private frozen = false;
  readonly counters: ProxyCounters = { accepted: 0, cut: 0 };

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
  ) {
    server.on("connection", (client) => this.onConnection(client));
  }

  /** Listen on 127.0.0.1 (port 0: a free one) and forward to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = net.createServer({ pauseOnConnect: true });
    const proxy = new TcpProxy(server, target);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return proxy;
  }

  /** The proxy in front of a `ws://host:port/path` URL: the same URL through the proxy. */
  static forUrl(url: string): Promise<TcpProxy> {
    const u = new URL(url);
    return TcpProxy.start({ host: u.hostname, port: Number(u.port) });
  }

  get port(): number {
    const addr = this.server.address();
    if (addr === null || typeof addr === "string") throw new Error("proxy is not listening");
    return addr.port;
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }

  /** Connection pairs open now. */
  get open(): number {
    return this.pairs.size;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** Stop forwarding in both directions on every connection, present and future; close nothing. */
  freeze(): void {
    this.frozen = true;
    for (const p of this.pairs) {
      p.client.pause();
      p.upstream.pause();
    }
  }

  /** Forward again: what was held flows on (to a peer that may meanwhile have given up). */
  unfreeze(): void {
    if (!this.frozen) return;
    this.frozen = false;
    for (const p of this.pairs) this.flow(p);
  }

  /** Destroy both sides of every connection now. */
  cut(): void {
    for (const p of this.pairs) {
      this.counters.cut++;
      this.destroy(p);
    }
  }

  /** Stop listening and destroy every connection. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(client: net.Socket): void {
    this.counters.accepted++;
    const upstream = net.connect({ host: this.target.host, port: this.target.port });
    upstream.pause();
    const pair: Pair = { client, upstream, held: [] };
    this.pairs.add(pair);
    // Anything that arrives while frozen (a chunk read just before the pause took effect, a FIN)
    // is held: a frozen link carries nothing, not even a close.
    const pass = (action: () => void) => {
      if (this.frozen || pair.held.length > 0) pair.held.push(action);
      else action();
    };
    client.on("data", (chunk: Buffer) => pass(() => upstream.write(chunk)));
    upstream.on("data", (chunk: Buffer) => pass(() => client.write(chunk)));
    client.on("end", () => pass(() => upstream.end()));
    upstream.on("end", () => pass(() => client.end()));
    for (const s of [client, upstream]) {
      s.on("error", () => this.destroy(pair));
      s.on("close", () => this.destroy(pair));
    }
    if (this.frozen) client.pause();
    else this.flow(pair);
  }

  private flow(p: Pair): void {
    const held = p.held;
    p.held = [];
    for (const action of held) {
      if (p.client.destroyed || p.upstream.destroyed) break;
      action();
    }
    p.client.resume();
    p.upstream.resume();
  }

  private destroy(p: Pair): void {
    if (!this.pairs.delete(p)) return;
    p.client.destroy();
    p.upstream.destroy();
  }
}
