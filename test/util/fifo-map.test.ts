import { describe, expect, it } from "vitest";
import { FifoMap } from "../../src/util/fifo-map.js";

describe("fifo map", () => {
  it("fifo map - hands out entries oldest first; a key set again moves to the back", () => {
    const m = new FifoMap<string, number>();
    m.set("a", 1);
    m.set("b", 2);
    m.set("c", 3);
    m.set("a", 4);
    expect(m.oldest()).toEqual(["b", 2]);
    m.delete("b");
    expect(m.oldest()).toEqual(["c", 3]);
    m.delete("c");
    expect(m.oldest()).toEqual(["a", 4]);
    expect(m.get("a")).toBe(4);
    expect(m.size).toBe(1);
    m.delete("a");
    expect(m.oldest()).toBeUndefined();
    expect(m.has("a")).toBe(false);
  });

  it("fifo map - as a queue of 10,000 with one in and one out per step, keeps order and stays small", () => {
    const m = new FifoMap<number, number>();
    for (let i = 0; i < 10_000; i++) m.set(i, i);
    for (let i = 10_000; i < 200_000; i++) {
      m.set(i, i);
      const first = m.oldest();
      expect(first?.[0]).toBe(i - 10_000);
      m.delete((first as [number, number])[0]);
    }
    expect(m.size).toBe(10_000);
    // The order array is compacted: it never holds more than twice the live entries plus a little.
    const order = (m as unknown as { order: unknown[]; head: number }).order;
    expect(order.length).toBeLessThanOrEqual(2 * 10_000 + 1024);
  });

  it("fifo map - a deleted or replaced entry's value is let go at once, before any compaction", () => {
    const m = new FifoMap<string, { big: string }>();
    m.set("a", { big: "x" });
    m.set("a", { big: "y" });
    m.set("b", { big: "z" });
    m.delete("b");
    const order = (m as unknown as { order: Array<{ value: unknown }> }).order;
    // Three slots were made; only the live one still holds a value.
    expect(order.map((s) => s.value)).toEqual([undefined, { big: "y" }, undefined]);
  });
});
