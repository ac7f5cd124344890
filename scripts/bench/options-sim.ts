/**
 * `node options-sim.js '<SimOptions as JSON>'`: the bundled simulator with options `runware sim`
 * has no flag for (the pressure phase's `base64ResultChars`, a fixed port to come back on). Prints
 * the same line as `runware sim` once it listens and stops on SIGTERM/SIGINT.
 */
import { SimServer, type SimOptions } from "../../src/sim/index.js";

const options = JSON.parse(process.argv[2] ?? "{}") as Partial<SimOptions>;
const sim = await SimServer.start(options);
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.once(sig, () => {
    void sim.close().then(() => process.exit(0));
  });
}
process.stdout.write(`runware sim listening on ${sim.url} (images ${sim.httpUrl})\n`);
