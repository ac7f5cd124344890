/**
 * Local files into a batch, with the daemon's body limit (`GET /v1/status` `limits.maxBodyBytes`)
 * asked only when some task names a local file. Shared by `run({readLocalFiles})` and the CLI.
 */
import type { RunwareClient, TaskInput } from "./index.js";
import { hasLocalFiles, readAllLocalFiles } from "./local-files.js";

export async function readLocalFilesFor(
  client: RunwareClient,
  tasks: readonly TaskInput[],
  opts: { baseDir?: string; labelOf?: (index: number) => string },
): Promise<TaskInput[]> {
  if (!tasks.some((t) => hasLocalFiles(t))) return [...tasks];
  const limit = (await client.status()).limits["maxBodyBytes"];
  return (await readAllLocalFiles(tasks, { ...opts, ...(typeof limit === "number" ? { maxBytes: limit } : {}) })) as TaskInput[];
}
