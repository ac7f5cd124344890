/**
 * The README and `runware <verb> --help` agree (issue 14): every client verb `runware --help`
 * lists has an example in the README's "Everyday use" block, and every flag the README names for
 * a verb (its example and its row in the verb table) is one its `--help` documents.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Cleanup } from "../helpers/cleanup.js";
import { runCli } from "../helpers/cli.js";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
/** Verbs documented elsewhere in the README (daemon lifecycle, the simulator, the demo). */
const NOT_EVERYDAY = new Set(["daemon", "sim", "demo", "start", "stop"]);

const flagsIn = (text: string) => new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z-]+)/g)].map((m) => m[1]!));

describe("cli - README and --help", () => {
  it("readme - every everyday verb has an example, and every flag the README gives a verb is in that verb's --help", async () => {
    const cleanup = new Cleanup();
    try {
      const block = /## Everyday use\n+```sh\n([\s\S]*?)```/.exec(README)?.[1] ?? "";
      const examples = block.split("\n").flatMap((l) => /^runware (\S+)(.*?)(?:\s+#.*)?$/.exec(l.trim())?.slice(1, 3) ?? []);
      const byVerb = new Map<string, string>();
      for (let i = 0; i < examples.length; i += 2) byVerb.set(examples[i]!, `${byVerb.get(examples[i]!) ?? ""} ${examples[i + 1] ?? ""}`);
      const rows = [...README.matchAll(/^\| `([a-z-]+)[^|`]*` \| (.*) \|$/gm)];
      for (const [, verb, text] of rows) if (verb && byVerb.has(verb)) byVerb.set(verb, `${byVerb.get(verb)!} ${text}`);

      const top = await runCli(cleanup, ["--help"]);
      const listed = top.stdout
        .slice(top.stdout.indexOf("commands:"))
        .split("\n\n")[0]!
        .split("\n")
        .slice(1)
        .flatMap((line) => /^ {2}(\S+)(?: \| (\S+))?/.exec(line)?.slice(1) ?? [])
        .filter((v): v is string => v !== undefined && !NOT_EVERYDAY.has(v));
      expect(listed.length).toBeGreaterThan(8);
      expect([...listed].sort()).toEqual([...byVerb.keys()].sort());

      const helps = await Promise.all(
        [...byVerb].map(async ([verb, text]) => ({ verb, text, help: await runCli(cleanup, [verb, "--help"]) })),
      );
      for (const { verb, text, help } of helps) {
        expect(help.code, verb).toBe(0);
        const documented = flagsIn(help.stdout);
        for (const flag of flagsIn(text)) expect(documented.has(flag), `${verb} --help documents --${flag}`).toBe(true);
      }
    } finally {
      await cleanup.run();
    }
  });
});
