/**
 * The task phase table (src/upstream/lifecycle.ts), checked against the moves this project means
 * to allow, written out here a second time on purpose: changing the table takes changing this list.
 */
import { describe, expect, it } from "vitest";
import { LEGAL_MOVES } from "../helpers/legal-moves.js";
import { canMove, checkMove, IllegalMoveError, isFinal, MOVES, PHASES, STATE_OF, type Phase } from "../../src/upstream/lifecycle.js";

const ALL_PAIRS = PHASES.flatMap((from) => PHASES.filter((to) => to !== from).map((to) => `${from}>${to}`));

describe("task lifecycle - the phase table", () => {
  it("task lifecycle - has every phase of the issue, and the table allows exactly the intended moves", () => {
    expect([...PHASES].sort()).toEqual(["done", "failed", "in-doubt", "polling", "queued", "recovering", "retry-wait", "sent"]);
    const allowed = ALL_PAIRS.filter((m) => {
      const [from, to] = m.split(">") as [Phase, Phase];
      return canMove(from, to);
    });
    expect(allowed.sort()).toEqual([...LEGAL_MOVES].sort());
  });

  it("task lifecycle - every illegal move throws IllegalMoveError with a stable code, naming both phases and the reason", () => {
    const illegal = ALL_PAIRS.filter((m) => !LEGAL_MOVES.includes(m));
    expect(illegal.length).toBe(ALL_PAIRS.length - LEGAL_MOVES.length);
    for (const m of illegal) {
      const [from, to] = m.split(">") as [Phase, Phase];
      let caught: unknown;
      try {
        checkMove(from, to, "because a test said so");
      } catch (err) {
        caught = err;
      }
      expect(caught, m).toBeInstanceOf(IllegalMoveError);
      expect((caught as IllegalMoveError).code).toBe("illegalTaskMove");
      expect((caught as Error).message).toBe(`illegal task move ${from} -> ${to} (because a test said so)`);
    }
    for (const m of LEGAL_MOVES) {
      const [from, to] = m.split(">") as [Phase, Phase];
      expect(() => checkMove(from, to, "fine"), m).not.toThrow();
    }
  });

  it("task lifecycle - the final phases have no way out, every other phase can end all three ways", () => {
    for (const p of PHASES) {
      if (p === "done" || p === "failed" || p === "in-doubt") {
        expect(isFinal(p)).toBe(true);
        expect(MOVES[p]).toEqual([]);
      } else {
        expect(isFinal(p)).toBe(false);
        for (const end of ["done", "failed", "in-doubt"] as const) expect(canMove(p, end), `${p}>${end}`).toBe(true);
      }
    }
  });

  it("task lifecycle - callers see queued while it waits for a slot (also after a transient error), sent until final, and the final state itself", () => {
    expect(STATE_OF).toEqual({
      queued: "queued",
      sent: "sent",
      "retry-wait": "sent",
      recovering: "sent",
      polling: "sent",
      done: "done",
      failed: "failed",
      "in-doubt": "in-doubt",
    });
  });
});
