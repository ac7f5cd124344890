/**
 * The cold one-shot contender: what a fresh script using the official SDK does to get one image.
 * Connect, authenticate (`Runware.initialize`, the SDK's documented entry), request, print, exit.
 * It exits explicitly right after `disconnect()`, the most favourable ending for the SDK: no wait
 * for lingering handles is counted. Usage: node sdk-oneshot.js WS_URL
 */
import { Runware } from "@runware/sdk-js";

const url = process.argv[2];
if (!url) {
  process.stderr.write("usage: sdk-oneshot.js WS_URL\n");
  process.exit(2);
}
const rw = await Runware.initialize({ apiKey: "bench-key", url, enableLogging: false });
const images = await rw.imageInference({ positivePrompt: "a fox", model: "runware:101@1", width: 128, height: 128, numberResults: 1 });
process.stdout.write(`${JSON.stringify(images)}\n`);
await rw.disconnect();
process.exit(images?.length === 1 ? 0 : 1);
