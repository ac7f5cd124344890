/**
 * Teardown registry: everything a test opens registers its closer here, and `afterEach` runs them
 * all (last opened, first closed), so no server, socket or child process outlives its test.
 *
 *   const cleanup = new Cleanup();
 *   afterEach(() => cleanup.run());
 *   const sim = cleanup.add(await SimServer.start(), (s) => s.close());
 */
export class Cleanup {
  private closers: Array<() => unknown> = [];

  add<T>(thing: T, close: (thing: T) => unknown): T {
    this.closers.push(() => close(thing));
    return thing;
  }

  defer(fn: () => unknown): void {
    this.closers.push(fn);
  }

  async run(): Promise<void> {
    const closers = this.closers.reverse();
    this.closers = [];
    const errors: unknown[] = [];
    for (const close of closers) {
      try {
        await close();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw new AggregateError(errors, "cleanup failed");
  }
}
