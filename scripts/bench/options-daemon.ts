/**
 * `node options-daemon.js '<settings as JSON>' [runware daemon flags...]`: the daemon with settings
 * that have no flag (the async phase's poll cap, scaled down with the simulator's render time in a
 * quick run) over the config its flags and environment give. Stops on SIGTERM/SIGINT.
 */
import { loadDaemonConfig, type DaemonConfig } from "../../src/local/config.js";
import { Daemon } from "../../src/local/daemon.js";
import { createLogger } from "../../src/log.js";

const settings = JSON.parse(process.argv[2] ?? "{}") as Partial<DaemonConfig>;
const cfg: DaemonConfig = { ...loadDaemonConfig(process.argv.slice(3)), ...settings };
const daemon = await Daemon.start(cfg, { logger: createLogger(cfg.logLevel) });
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.once(sig, () => {
    void daemon.stop(sig).then(() => process.exit(0));
  });
}
