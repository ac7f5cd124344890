/**
 * The socket under a Connection, behind a tiny interface (nats `Transport` style) so the connection
 * logic does not depend on `ws` directly. The `ws` instance is a Node EventEmitter: its 'error'
 * listener is attached at once, or an error would crash the process (docs/protocol.md §11.1).
 */
import WebSocket from "ws";

export interface Transport {
  /** Queue a text frame; `onWritten` runs once it has been handed to the kernel (or failed). */
  send(text: string, onWritten?: (err?: Error) => void): void;
  /** Bytes queued in the socket and not yet written. */
  readonly bufferedAmount: number;
  /** Polite close (close frame). */
  close(code?: number, reason?: string): void;
  /** Destroy at once: the only safe way to drop a half-open link (`close()` may wait 30 s). */
  terminate(): void;
}

export interface TransportEvents {
  onOpen(): void;
  /** `bytes`: the frame's size on the wire, when the transport knows it. */
  onMessage(text: string, bytes?: number): void;
  onClose(code: number, reason: string): void;
  onError(err: Error): void;
}

export interface DialOptions {
  handshakeTimeoutMs: number;
  /** Largest inbound message; ws closes with 1009 past it (its own default: 100 MiB). */
  maxPayload?: number;
}

export type Dialer = (url: string, events: TransportEvents, opts: DialOptions) => Transport;

export const wsDialer: Dialer = (url, events, opts) => {
  // perMessageDeflate off: frames are small JSON and compression costs latency (sdk-js does the same).
  const ws = new WebSocket(url, {
    handshakeTimeout: opts.handshakeTimeoutMs,
    perMessageDeflate: false,
    ...(opts.maxPayload === undefined ? {} : { maxPayload: opts.maxPayload }),
  });
  ws.on("error", (err) => events.onError(err));
  ws.on("open", () => events.onOpen());
  ws.on("message", (data, isBinary) => {
    if (isBinary) return; // Runware speaks text frames only
    events.onMessage(textOf(data), Buffer.isBuffer(data) ? data.length : undefined);
  });
  ws.on("close", (code, reason) => events.onClose(code, reason.toString()));
  return {
    send(text, onWritten) {
      if (ws.readyState !== WebSocket.OPEN) {
        onWritten?.(new Error(`ws not open: readyState ${ws.readyState}`));
        return;
      }
      ws.send(text, onWritten);
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    close(code, reason) {
      ws.close(code, reason);
    },
    terminate() {
      ws.terminate();
    },
  };
};

/** ws hands text frames over as a Buffer (its default binaryType); the other forms for completeness. */
function textOf(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString("utf8");
}
