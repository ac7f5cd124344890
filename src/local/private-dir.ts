/**
 * A directory only its user can use (the socket's, the token's): created 0700 if missing;
 * refused if it is a symlink, not a directory, someone else's, or open to group or others, as
 * ssh-agent and tmux refuse theirs. `readable`: others may read and enter it but not write it (a
 * 0600 file in a 0755 home directory is safe; in a directory others can write, it could be swapped).
 * Returns why it is refused, or undefined.
 */
import { lstatSync, mkdirSync } from "node:fs";

export function privateDirProblem(dir: string, readable = false): { code: "dirUnusable" | "dirUnsafe"; message: string } | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    return { code: "dirUnusable", message: `cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) return { code: "dirUnsafe", message: `${dir} is a symlink; refusing to use it` };
  if (!st.isDirectory()) return { code: "dirUnsafe", message: `${dir} is not a directory` };
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    return { code: "dirUnsafe", message: `${dir} is owned by uid ${st.uid}, not by us (uid ${uid}); refusing to use it` };
  }
  if ((st.mode & (readable ? 0o022 : 0o077)) !== 0) {
    const what = readable ? "writable by group or others (chmod go-w" : "open to group or others (chmod 700";
    return { code: "dirUnsafe", message: `${dir} has mode ${(st.mode & 0o777).toString(8)}; it must not be ${what} ${dir})` };
  }
  return undefined;
}
