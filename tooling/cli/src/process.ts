// What every bin of the apps does around its command line: print expected failures without a stack, and undo what
// pnpm's scripts do to argv and to the working directory.
import { existsSync } from "node:fs";
import { resolve } from "node:path";

/**
 * Prints an error as `[prefix] error: message` on stderr and sets the exit code (so pending output still flushes).
 * The stack is left out, since these are the errors a user can act on; `DALE_DEBUG=1` prints it too.
 * @example main().catch((e: unknown) => fail("sample", e));
 */
export function fail(prefix: string, e: unknown, code = 1): void {
  const message = e instanceof Error ? (process.env.DALE_DEBUG ? (e.stack ?? e.message) : e.message) : String(e);
  console.error(`[${prefix}] error: ${message}`);
  process.exitCode = code;
}

/**
 * process.argv without a leading `--` among the user's arguments: `scripts/pnpm train -- --steps 10` hands
 * `-- --steps 10` to the bin, and commander would read everything after `--` as operands.
 */
export function userArgv(argv: readonly string[] = process.argv): string[] {
  const rest = argv.slice(2);
  return [...argv.slice(0, 2), ...(rest[0] === "--" ? rest.slice(1) : rest)];
}

/**
 * Resolves a user's path against the folder the command was typed in: pnpm runs the root `train`/`sample` scripts
 * inside the app's folder but records the caller's folder in INIT_CWD.
 */
export function userPath(path: string): string {
  const base = process.env.INIT_CWD && existsSync(process.env.INIT_CWD) ? process.env.INIT_CWD : process.cwd();
  return resolve(base, path);
}
