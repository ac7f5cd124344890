/**
 * The daemon: one UpstreamEngine, the local API on a Unix socket, and an orderly stop.
 * Stop (docs/local-api.md §6): refuse new work (503), let in-flight tasks finish for `drainTimeoutMs`,
 * answer every caller, close local WebSockets, remove the socket file.
 */
import type { Server } from "node:http";
import { silentLogger, type Logger } from "../log.js";
import { UpstreamEngine, type EngineOptions } from "../upstream/engine.js";
import { statusLimits, type DaemonConfig } from "./config.js";
import { createLocalServer } from "./server.js";
import { TaskService } from "./service.js";
import { bindUnixSocket, type BoundSocket } from "./socket.js";
import { ResultStore } from "./store.js";
import { Ledger } from "./ledger/ledger.js";
import { DaemonMetrics } from "./metrics.js";
import { EventHub } from "./events.js";
import { ByteBudget } from "./budget.js";
import { UnsentBudget } from "./unsent.js";
import { LocalWebSocket } from "./wsapi.js";
import type { AttachedJournal } from "./journal/attach.js";
import { closeServer, listenTcp, type TcpListener } from "./tcp.js";
import { loadOrCreateToken } from "./token.js";

export interface DaemonOptions {
  logger?: Logger;
  /** What the engine takes beyond the config: a clock, a random source, a dialer (tests also shrink timings here). */
  engine?: Partial<EngineOptions>;
  /** A background daemon's pid file: written as it wins the socket, removed as it stops (socket.ts). */
  pidFile?: string;
}

export class Daemon {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly engine: UpstreamEngine,
    readonly service: TaskService,
    readonly server: Server,
    private readonly ws: LocalWebSocket,
    private readonly socket: BoundSocket,
    private readonly cfg: DaemonConfig,
    private readonly log: Logger,
    /** The journal (journal/attach.ts); undefined with --no-journal. */
    readonly journal: AttachedJournal | undefined,
    private readonly events: EventHub,
  ) {}

  /** The loopback TCP listener (--listen), if any; set once it listens. */
  private tcp: TcpListener | undefined;

  /** Failed token checks on the TCP listener since start. */
  get tcpAuthFailures(): number {
    return this.tcp?.gate.failures ?? 0;
  }

  /** Readers of GET /v1/events now. */
  get eventReaders(): number {
    return this.events.size;
  }

  /** `host:port` of the TCP listener (the port it got, for --listen 127.0.0.1:0). */
  get tcpAddress(): string | undefined {
    return this.tcp?.address;
  }

  get socketPath(): string {
    return this.socket.path;
  }

  static async start(cfg: DaemonConfig, opts: DaemonOptions = {}): Promise<Daemon> {
    const logger = opts.logger ?? silentLogger;
    const log = logger.child({ mod: "daemon" });
    // Set once the socket is ours (below); the engine commits it before each upstream write.
    let journal: AttachedJournal | undefined;
    // Every setting goes to the engine; it takes the ones it knows (its options share the table's names).
    const engine = new UpstreamEngine({
      ...cfg,
      url: cfg.upstreamUrl,
      apiKey: cfg.apiKey,
      logger,
      beforeSend: () => journal?.journal.flush(),
      ...opts.engine,
    });
    const store = new ResultStore(
      {
        retentionMs: cfg.resultRetentionMs,
        maxEntries: cfg.resultRetentionMax,
        maxBytes: cfg.resultRetentionBytes,
        maxMarkers: cfg.evictedMarkersMax,
      },
      undefined,
      (uuid) => journal?.journal.forget(uuid),
    );
    const ledger = new Ledger(engine, cfg, logger);
    const service = new TaskService(engine, store, ledger, cfg.maxLabels);
    // The local side's byte budgets, shared by HTTP and the local WebSocket (docs/reliability.md, Limits).
    const reading = new ByteBudget(cfg.maxReadingBytes);
    const unsent = new UnsentBudget(cfg.maxClientUnsentBytes, cfg.maxUnsentBytes);
    // The local side gets only what it uses: the key stays with the engine.
    const ws = new LocalWebSocket(
      service,
      logger,
      {
        maxBodyBytes: cfg.maxBodyBytes,
        closeGraceMs: cfg.closeGraceMs,
        maxJsonDepth: cfg.maxJsonDepth,
        slowClientGraceMs: cfg.slowClientGraceMs,
      },
      { reading, unsent },
    );
    let tcp: TcpListener | undefined;
    const metrics = new DaemonMetrics({ engine, ledger, authFailures: () => tcp?.gate.failures ?? 0 });
    const events = new EventHub(engine, ledger, cfg.eventReaderMaxBytes);
    const serverOpts = {
      metrics,
      events,
      maxBodyBytes: cfg.maxBodyBytes,
      maxJsonDepth: cfg.maxJsonDepth,
      refusedBodyDrainMs: cfg.refusedBodyDrainMs,
      maxLocalConnections: cfg.maxLocalConnections,
      slowClientGraceMs: cfg.slowClientGraceMs,
      reading,
      unsent,
      limits: statusLimits(cfg),
      logger,
    };
    const server = createLocalServer(service, ws, serverOpts);
    // The token first: a bad token file stops the start before anything listens or dials.
    const token = cfg.listen ? loadOrCreateToken(cfg.tokenFile) : undefined;
    // Loaded before the bind: --no-journal never loads the native module, and no client ever does.
    const attach = cfg.noJournal ? undefined : (await import("./journal/attach.js")).attachJournal;
    // Bind first: a second instance must fail before it opens a second upstream connection.
    const socket = await bindUnixSocket(server, cfg.socketPath, cfg.socketProbeTimeoutMs, { pidFile: opts.pidFile });
    if (!cfg.noJournal) {
      try {
        journal = attach?.(cfg, engine, store, logger, ledger);
      } catch (err) {
        ledger.close();
        socket.unlink();
        await new Promise<void>((r) => server.close(() => r()));
        await engine.close("the journal could not be opened");
        throw err;
      }
    }
    engine.start(journal?.sessionUUID);
    // Nothing awaited since the bind: no request could come before this (StartingError otherwise).
    service.opened();
    const daemon = new Daemon(engine, service, server, ws, socket, cfg, log, journal, events);
    if (cfg.listen && token !== undefined) {
      try {
        // Its own reading budget: bodies read before their token is checked must not starve the Unix socket.
        const tcpReading = new ByteBudget(cfg.maxReadingBytes);
        tcp = await listenTcp(
          cfg.listen,
          token,
          cfg.tokenFile,
          (gate) => createLocalServer(service, ws, { ...serverOpts, reading: tcpReading, gate }),
          logger,
        );
        daemon.tcp = tcp;
      } catch (err) {
        await daemon.stop("the TCP listener could not start");
        throw err;
      }
    }
    log.info({ socket: socket.path, upstream: cfg.upstreamUrl, maxInFlight: cfg.maxInFlight }, `listening on ${socket.path}`);
    return daemon;
  }

  /** Drain and stop; idempotent. Resolves once the socket is gone. */
  stop(reason = "stop requested"): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    this.log.info({ reason, pending: this.engine.pendingCount }, "draining");
    // New work is refused from here (the engine stops accepting); running tasks keep their link.
    await this.engine.drain(this.cfg.drainTimeoutMs);
    // Every task is settled now, so every waiting request has its answer on the way.
    this.service.ledger.close();
    this.events.close();
    this.journal?.close();
    this.ws.close();
    // Removed while still listening, so what is removed is ours (socket.ts); new callers now find no daemon.
    this.socket.unlink();
    await Promise.all([closeServer(this.server, this.cfg.closeGraceMs), this.tcp?.close(this.cfg.closeGraceMs)]);
    this.log.info("stopped");
  }
}
