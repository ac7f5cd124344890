/**
 * The lock beside the socket (src/local/lockfile.ts): starters replacing a dead daemon's socket take
 * turns, a lock left by a killed starter is taken over, and the lock is gone afterwards.
 */
import { afterEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withLock } from "../../src/local/lockfile.js";
import { Cleanup } from "../helpers/cleanup.js";
import { tempDir } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("socket lock", () => {
  it("socket lock - holders take turns: no two run their section at once, and the lock is removed after", async () => {
    const lock = join(tempDir(cleanup), "d.sock.lock");
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        withLock(lock, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 15));
          order.push(i);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect([...order].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    expect(existsSync(lock)).toBe(false);
  });

  it("socket lock - a lock left by a process that is gone is taken over at once", async () => {
    const lock = join(tempDir(cleanup), "d.sock.lock");
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    writeFileSync(lock, `${gone}\n`);
    const started = Date.now();
    expect(await withLock(lock, () => Promise.resolve("ran"))).toBe("ran");
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(existsSync(lock)).toBe(false);
  });

  it("socket lock - the section's error reaches the caller and the lock is still released", async () => {
    const lock = join(tempDir(cleanup), "d.sock.lock");
    await expect(withLock(lock, () => Promise.reject(new Error("bind failed")))).rejects.toThrow("bind failed");
    expect(existsSync(lock)).toBe(false);
  });
});
