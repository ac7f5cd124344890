/**
 * Start-up with a journal (issue 15): take the lock, open it, give the result store back every
 * finished task still within retention (with its own finish time), adopt every unfinished one into
 * the engine (never under a new UUID: upstream/adopt.ts), and from then on record what the engine
 * does. The engine is then started with the journaled `connectionSessionUUID`, so Runware replays
 * what it buffered for the session while no daemon was there (docs/protocol.md §2.3).
 */
import type { Logger } from "../../log.js";
import type { UpstreamEngine } from "../../upstream/engine.js";
import type { ResultStore } from "../store.js";
import type { Ledger } from "../ledger/ledger.js";
import { JournalHistory } from "./history.js";
import { Journal } from "./journal.js";
import { journalPaths, lockJournal } from "./location.js";

export interface AttachedJournal {
  readonly journal: Journal;
  /** The session to resume, if the journal has one. */
  readonly sessionUUID: string | undefined;
  readonly adopted: number;
  readonly restored: number;
  /** Commit, close and let go of the lock. */
  close(): void;
}

export interface JournalConfig {
  stateDir: string;
  socketPath: string;
  journalInputMaxBytes: number;
  resultRetentionMs: number;
  historyMaxBytes: number;
}

export function attachJournal(
  cfg: JournalConfig,
  engine: UpstreamEngine,
  store: ResultStore,
  logger: Logger,
  ledger?: Pick<Ledger, "attach" | "acceptedEarlier" | "abandoned">,
): AttachedJournal {
  const log = logger.child({ mod: "journal" });
  const paths = journalPaths(cfg.stateDir, cfg.socketPath);
  const release = lockJournal(paths);
  let journal: Journal;
  try {
    journal = new Journal(paths.file, { inputMaxBytes: cfg.journalInputMaxBytes, now: Date.now, log });
  } catch (err) {
    release();
    throw err;
  }
  const started = performance.now();
  try {
    // Before adoption: a task taken up again is in the ledger's history when it ends.
    ledger?.attach(new JournalHistory(journal, cfg.historyMaxBytes));
  } catch (err) {
    journal.close();
    release();
    throw err;
  }
  const finished = journal.finishedSince(Date.now() - cfg.resultRetentionMs);
  for (const f of finished) store.put(f.outcome, f.finishedAt);
  // Recorded from here on: adoption itself emits `accepted` (already journaled: kept as it is).
  engine.on("accepted", (task, handle) => journal.accepted(task, handle));
  engine.on("move", (uuid, _from, to) => journal.moved(uuid, to));
  engine.on("session", (uuid) => journal.session(uuid));
  let adopted = 0;
  for (const u of journal.unfinished()) {
    try {
      if (u.acceptedAt !== undefined) ledger?.acceptedEarlier(u.taskUUID, u.acceptedAt);
      engine.adopt(u);
      adopted++;
    } catch (err) {
      log.error({ err, taskUUID: u.taskUUID }, "a journaled task could not be taken up again; it ends failed");
      const error = {
        code: "journalUnreadable",
        message: `the daemon restarted and could not take this task up again: ${(err as Error).message}`,
        taskUUID: u.taskUUID,
        taskType: u.taskType,
      };
      journal.abandon(u, error);
      ledger?.abandoned(u, error);
    }
  }
  journal.flush();
  const sessionUUID = journal.sessionUUID();
  const ms = Math.round(performance.now() - started);
  if (adopted > 0 || finished.length > 0) {
    log.info(
      { journal: paths.file, adopted, restored: finished.length, ms, sessionUUID },
      `journal: took up ${adopted} unfinished task(s), ${finished.length} finished one(s) readable again`,
    );
  }
  return {
    journal,
    sessionUUID,
    adopted,
    restored: finished.length,
    close: () => {
      journal.close();
      release();
    },
  };
}
