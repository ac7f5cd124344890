/**
 * The CLI reads local files named as media inputs (issue 14; client/local-files.ts): before
 * anything is sent, every problem (a missing file, a directory, a file over the daemon's body
 * limit) is one usage error, exit 2.
 */
import { LocalFileError, type RunwareClient, type TaskInput } from "../client/index.js";
import { readLocalFilesFor } from "../client/local-inputs.js";
import { UsageError } from "../errors.js";

export async function localInputs(
  client: RunwareClient,
  tasks: readonly TaskInput[],
  labelOf?: (index: number) => string,
): Promise<TaskInput[]> {
  try {
    return await readLocalFilesFor(client, tasks, labelOf ? { labelOf } : {});
  } catch (err) {
    if (err instanceof LocalFileError) throw new UsageError(`local files: ${err.problems.join("; ")}`);
    throw err;
  }
}
