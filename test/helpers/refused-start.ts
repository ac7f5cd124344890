/**
 * Start a daemon on a socket path it must refuse, pointed at a fresh simulator: resolves with the
 * error it refused with and that simulator (to check that no upstream connection was opened). A
 * daemon that starts after all is stopped at cleanup, and the call fails.
 */
import { Daemon } from "../../src/local/daemon.js";
import { SimServer } from "../../src/sim/index.js";
import type { Cleanup } from "./cleanup.js";
import { daemonConfig, FAST_ENGINE } from "./daemon.js";

export interface Refusal {
  err: { code?: string; message: string };
  sim: SimServer;
}

export async function refusedStart(cleanup: Cleanup, socketPath: string): Promise<Refusal> {
  const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
  const err = await Daemon.start(daemonConfig(sim.url, socketPath), { engine: FAST_ENGINE }).then(
    (d) => {
      cleanup.add(d, (x) => x.stop());
      return undefined;
    },
    (e: Refusal["err"]) => e,
  );
  if (!err) throw new Error(`the daemon started on ${socketPath}`);
  return { err, sim };
}
