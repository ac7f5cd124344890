/**
 * What the simulator saw, for assertions in tests and benchmarks (also served as JSON at
 * `GET /_sim/counters`). Plain JSON values only.
 */

export interface AuthRecord {
  /** The session the connection was given. */
  sessionUUID: string;
  /** The `connectionSessionUUID` the client asked to resume, if any. */
  requestedSession?: string;
  /** True when the requested session was known and resumed (same UUID answered). */
  resumed: boolean;
}

export interface SimCounters {
  /** WebSocket connections opened in total. */
  connections: number;
  /** WebSocket connections open now. */
  open: number;
  /** Successful authentications, in order. */
  auths: AuthRecord[];
  /**
   * Per taskUUID, how many times a (non-protocol, non-getResponse) task with it was submitted on an
   * authenticated connection, conflicts and invalid tasks included (tasks refused with missingApiKey are not).
   */
  received: Record<string, number>;
  /** Per taskUUID, how many getResponse requests asked about it. */
  getResponses: Record<string, number>;
  /** Per original taskType (videoInference, ...), getResponse requests answered for a known task: polls per video = this / videos. */
  pollsByTaskType: Record<string, number>;
  /** Inbound frames carrying at least one getResponse (a client coalescing its polls sends fewer frames than polls). */
  pollFrames: number;
  /** Most tasks being worked on at once. */
  maxOutstanding: number;
  /** Tasks being worked on now. */
  outstanding: number;
  /** Pings answered (a ping held by a frozen connection counts once it is processed). */
  pings: number;
  /** Garbage frames sent by `sendGarbage` (one per connection). */
  garbageSent: number;
  /** Submissions answered with `conflictTaskUUID`. */
  conflicts: number;
}

export class CounterStore {
  connections = 0;
  auths: AuthRecord[] = [];
  received = new Map<string, number>();
  getResponses = new Map<string, number>();
  pollsByTaskType = new Map<string, number>();
  pollFrames = 0;
  maxOutstanding = 0;
  pings = 0;
  garbageSent = 0;
  conflicts = 0;

  static bump(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  noteOutstanding(now: number): void {
    if (now > this.maxOutstanding) this.maxOutstanding = now;
  }

  snapshot(live: { open: number; outstanding: number }): SimCounters {
    return {
      connections: this.connections,
      open: live.open,
      auths: this.auths.map((a) => ({ ...a })),
      received: Object.fromEntries(this.received),
      getResponses: Object.fromEntries(this.getResponses),
      pollsByTaskType: Object.fromEntries(this.pollsByTaskType),
      pollFrames: this.pollFrames,
      maxOutstanding: this.maxOutstanding,
      outstanding: live.outstanding,
      pings: this.pings,
      garbageSent: this.garbageSent,
      conflicts: this.conflicts,
    };
  }

  /** Zero the history; `maxOutstanding` restarts from what is outstanding now. */
  reset(outstandingNow: number): void {
    this.connections = 0;
    this.auths = [];
    this.received.clear();
    this.getResponses.clear();
    this.pollsByTaskType.clear();
    this.pollFrames = 0;
    this.maxOutstanding = outstandingNow;
    this.pings = 0;
    this.garbageSent = 0;
    this.conflicts = 0;
  }
}
