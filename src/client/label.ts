/**
 * The label the client sends with each batch (`Runware-Label`, docs/local-api.md §2.9): the one
 * asked for, else RUNWARE_LABEL, else the script's file name, so spend and history say which script
 * asked without a line of code. A default is made to fit the daemon's rule (1 to 64 printable ASCII
 * characters); a label asked for is checked, never altered: it goes into a header as it is.
 */
import { InvalidLabelError } from "./errors.js";

const MAX_CHARS = 64;
const PRINTABLE = /^[\x20-\x7e]+$/;

/** The label to send (undefined: none, the daemon says `unlabelled`); throws InvalidLabelError. */
export function labelFor(asked: string | undefined, env: NodeJS.ProcessEnv, script: string | undefined): string | undefined {
  if (asked !== undefined) {
    const label = asked.trim();
    if (label === "" || label.length > MAX_CHARS || !PRINTABLE.test(label)) throw new InvalidLabelError(asked);
    return label;
  }
  const fromEnv = env["RUNWARE_LABEL"]?.trim();
  if (fromEnv) return labelFor(fromEnv, {}, undefined);
  const base = script?.split(/[\\/]/).pop() ?? "";
  const fitted = base
    .replace(/[^\x20-\x7e]/g, "_")
    .trim()
    .slice(0, MAX_CHARS);
  return fitted === "" ? undefined : fitted;
}
