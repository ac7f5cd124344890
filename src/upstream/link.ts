/**
 * What the engine needs of its upstream link: `Connection` is the real one; tests drive a fake one
 * by hand (test/helpers/fake-link.ts), so every task move can be reached without a socket.
 */
import type { LinkTraffic } from "./traffic.js";
import type { EventEmitter } from "eventemitter3";
import type { ConnectionEvents } from "./connection.js";
import type { ConnState } from "./state.js";

export interface EngineLink extends Pick<EventEmitter<ConnectionEvents>, "on" | "off"> {
  readonly state: ConnState;
  /** Changes with every socket: a frame written on an older epoch went out on a link that is gone. */
  readonly epoch: number;
  /** True when a task frame may be written now. */
  readonly writable: boolean;
  readonly bufferedAmount: number;
  readonly sessionUUID: string | undefined;
  readonly connectedSince: number | undefined;
  readonly reconnects: number;
  readonly lastError: string | undefined;
  /** What went over the link (metrics); a test's fake link may have none. */
  readonly traffic?: LinkTraffic;
  /** Dial; the first authentication asks to resume `resumeSessionUUID` when given. */
  start(resumeSessionUUID?: string): void;
  send(text: string, onWritten?: (err?: Error) => void): void;
  /** Stop taking new work but keep the link for results still due. */
  drain(): void;
  close(reason?: string): Promise<void>;
}
