import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { InvalidArgumentError } from "commander";

/** A commander argument parser for integers in [min, max]; the message names what was expected. */
export function int(what: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const s = value.trim();
    if (!/^[+-]?\d+$/.test(s)) throw new InvalidArgumentError(`${what} must be an integer, got "${value}".`);
    const v = Number(s);
    if (v < min || v > max) throw new InvalidArgumentError(`${what} must be between ${min} and ${max}, got ${v}.`);
    return v;
  };
}

/** A commander argument parser for finite numbers with `ok(v)` true. */
export function num(what: string, ok: (v: number) => boolean, expected: string): (value: string) => number {
  return (value) => {
    const v = Number(value.trim());
    if (value.trim() === "" || !Number.isFinite(v) || !ok(v)) throw new InvalidArgumentError(`${what} must be ${expected}, got "${value}".`);
    return v;
  };
}

/** A commander argument parser for one of `choices`. */
export function oneOf<T extends string>(what: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`${what} must be one of ${choices.join(", ")}, got "${value}".`);
    return value as T;
  };
}

/** Prints an error (without a stack for expected failures) and sets the exit code. */
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
 * inside apps/trainer but records the caller's folder in INIT_CWD.
 */
export function userPath(path: string): string {
  const base = process.env.INIT_CWD && existsSync(process.env.INIT_CWD) ? process.env.INIT_CWD : process.cwd();
  return resolve(base, path);
}
