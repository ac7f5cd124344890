/**
 * A FIFO per client, served round-robin: one client's batch of 1,000 tasks cannot starve another
 * client's single task (issue 3). O(1) push and shift; removal (a queued task that timed out) is
 * O(n) in that client's queue, which is rare.
 */
export class FairQueue<T> {
  private readonly byClient = new Map<string, T[]>();
  /** Clients with queued work, in service order. */
  private rotation: string[] = [];
  private head = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(client: string, item: T): void {
    this.queueOf(client).push(item);
    this.count++;
  }

  /** Put an item back at the front of its client's queue (a retry keeps its place). */
  unshift(client: string, item: T): void {
    this.queueOf(client).unshift(item);
    this.count++;
  }

  shift(): T | undefined {
    while (this.head < this.rotation.length) {
      const client = this.rotation[this.head++] as string;
      const q = this.byClient.get(client);
      if (!q || q.length === 0) {
        this.byClient.delete(client);
        continue;
      }
      const item = q.shift() as T;
      this.count--;
      if (q.length > 0) this.rotation.push(client);
      else this.byClient.delete(client);
      this.compact();
      return item;
    }
    this.compact();
    return undefined;
  }

  remove(client: string, item: T): boolean {
    const q = this.byClient.get(client);
    const i = q ? q.indexOf(item) : -1;
    if (!q || i < 0) return false;
    q.splice(i, 1);
    this.count--;
    return true;
  }

  private queueOf(client: string): T[] {
    let q = this.byClient.get(client);
    if (!q) {
      q = [];
      this.byClient.set(client, q);
      this.rotation.push(client);
    }
    return q;
  }

  /** Drop the consumed prefix of the rotation now and then, so it cannot grow without bound. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.rotation.length) {
      this.rotation = this.rotation.slice(this.head);
      this.head = 0;
    }
  }
}
