/**
 * A Map that hands out its oldest entry in O(1). A plain Map used as a queue is not: V8 leaves a
 * deleted entry as a hole until the table is rebuilt, and every iteration starts at the front, so
 * "delete the first, look at the next" walks every hole before it (a result store at 10,000 tasks
 * spent a third of the daemon's CPU there; docs/benchmarks.md). Here the order lives in an array
 * with a moving head; a key set again moves to the back, and its old slot is skipped as stale.
 */
interface Slot<K, V> {
  readonly key: K;
  /** Let go as soon as the entry is deleted or replaced: a stale slot must not keep its value alive. */
  value: V | undefined;
  live: boolean;
}

export class FifoMap<K, V> {
  private readonly map = new Map<K, Slot<K, V>>();
  private order: Array<Slot<K, V>> = [];
  private head = 0;

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Set `key` as the newest entry (moved to the back if it was there). */
  set(key: K, value: V): void {
    this.delete(key);
    const slot: Slot<K, V> = { key, value, live: true };
    this.map.set(key, slot);
    this.order.push(slot);
  }

  delete(key: K): boolean {
    const slot = this.map.get(key);
    if (!slot) return false;
    this.map.delete(key);
    slot.live = false;
    slot.value = undefined;
    this.compact();
    return true;
  }

  /** The oldest entry, or undefined when empty. */
  oldest(): [K, V] | undefined {
    while (this.head < this.order.length) {
      const slot = this.order[this.head] as Slot<K, V>;
      if (slot.live) return [slot.key, slot.value as V];
      this.head++;
    }
    return undefined;
  }

  /** Drop stale slots once they outnumber the live ones, so the array stays within twice the live size. */
  private compact(): void {
    const stale = this.order.length - this.map.size;
    if (stale < 1024 || stale < this.map.size) return;
    this.order = this.order.slice(this.head).filter((s) => s.live);
    this.head = 0;
  }
}
