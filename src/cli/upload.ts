/**
 * `runware upload FILE`: put a local image on Runware once (`imageUpload`) and print the UUID to use
 * as any later task's image input, instead of sending the bytes with every task. Other media (video,
 * audio) go with `mediaStorage` `operation: "upload"` (docs/protocol.md §8). Prints Runware's JSON on
 * stdout and `FILE: <uuid>` on stderr.
 */
import { extname } from "node:path";
import type { TaskInput } from "../client/index.js";
import { UsageError } from "../errors.js";
import { CLIENT_USAGE, exitFor, flagsOf, parseClient, printJson, say, usage } from "./args.js";
import { localInputs } from "./local-inputs.js";
import { withDaemon } from "./reach.js";

const IMAGE_EXTS = new Set([".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"]);

const UPLOAD_USAGE = `usage: runware upload FILE
  Uploads FILE once and prints its UUID (stderr: "FILE: <uuid>") to pass as seedImage, inputImage,
  referenceImages, ... in later tasks. Images go with imageUpload (imageUUID); video and audio with
  mediaStorage (mediaUUID).
${CLIENT_USAGE}`;

export async function upload(argv: string[]): Promise<number> {
  const { values, positionals } = parseClient(argv, {}, true);
  if (values["help"]) return usage(UPLOAD_USAGE);
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError("upload takes exactly one FILE");
  // A path with no "./" and no extension would not read as a path: make it one.
  const path = file.includes("/") ? file : `./${file}`;
  const image = IMAGE_EXTS.has(extname(file).toLowerCase());
  const task: TaskInput = image ? { taskType: "imageUpload", image: path } : { taskType: "mediaStorage", operation: "upload", media: path };
  const env = await withDaemon(flagsOf(values), async (client) => client.run(await localInputs(client, [task], () => file)));
  printJson(env);
  const uuid = env.data[0]?.[image ? "imageUUID" : "mediaUUID"];
  if (typeof uuid === "string") say(`${file}: ${uuid}`);
  return exitFor(env);
}
