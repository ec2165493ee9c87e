// commander argument parsers: each takes the option's text and returns its value, or throws commander's
// InvalidArgumentError, which commander prints after the option's name and the text it got:
//   error: option '--steps <n>' argument 'abc' is invalid. --steps must be an integer, got "abc".
import { InvalidArgumentError } from "commander";

/** A parser of one command-line value, as commander's `.option(flags, description, parser)` takes it. */
export type ArgParser<T> = (value: string) => T;

/**
 * Integers in `[min, max]`, written in decimal with an optional sign (`"12"`, `" +3 "`; not `"1e3"`, `"0x10"` or
 * `"2.0"`). Without `max` any safe integer from `min` up is accepted.
 * @param what The option or item the messages name, e.g. `"--steps"`.
 * @example int("--batch", 1, 65536)("32") // 32; "0" throws '--batch must be between 1 and 65536, got 0.'
 */
export function int(what: string, min: number, max = Number.MAX_SAFE_INTEGER): ArgParser<number> {
  return (value) => {
    const s = value.trim();
    if (!/^[+-]?\d+$/.test(s)) throw new InvalidArgumentError(`${what} must be an integer, got "${value}".`);
    const v = Number(s);
    if (v < min && max === Number.MAX_SAFE_INTEGER) throw new InvalidArgumentError(`${what} must be at least ${min}, got ${v}.`);
    if (v < min || v > max) throw new InvalidArgumentError(`${what} must be between ${min} and ${max}, got ${v}.`);
    return v;
  };
}

/**
 * Finite numbers (any form `Number` reads: `"2e-4"`, `"0.5"`) for which `ok(v)` holds.
 * @param expected What `ok` asks for, completing "`what` must be ...", e.g. `"a positive number"` or `"in [0, 1)"`.
 * @example num("--lr", (v) => v > 0, "a positive number")("2e-4") // 0.0002
 */
export function num(what: string, ok: (v: number) => boolean, expected: string): ArgParser<number> {
  return (value) => {
    const v = Number(value.trim());
    if (value.trim() === "" || !Number.isFinite(v) || !ok(v)) throw new InvalidArgumentError(`${what} must be ${expected}, got "${value}".`);
    return v;
  };
}

/**
 * One of `choices`, spelled exactly (no trimming, case-sensitive); the result has the choices' literal type.
 * @example oneOf("--process", ["gbm", "vp", "ve"] as const)("vp") // "vp", typed "gbm" | "vp" | "ve"
 */
export function oneOf<T extends string>(what: string, choices: readonly T[]): ArgParser<T> {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`${what} must be one of ${choices.join(", ")}, got "${value}".`);
    return value as T;
  };
}

/**
 * Comma-separated lists: each item is trimmed and handed to `parseItem`, whose errors pass through unchanged, so its
 * `what` should name an item (`int("every item of --nfe", 1)`). Empty items (`"10,,5"`, `"10,"`, `""`) are rejected;
 * with `distinct`, so are repeated values (compared with `===` after parsing, so `"5,+5"` repeats 5).
 * @example list("--steps", int("every step count", 1), { distinct: true })("1000, 20,10") // [1000, 20, 10]
 */
export function list<T>(what: string, parseItem: ArgParser<T>, options: { distinct?: boolean } = {}): ArgParser<T[]> {
  return (value) => {
    if (value.trim() === "") throw new InvalidArgumentError(`${what} must be a non-empty comma-separated list, got "${value}".`);
    const parts = value.split(",").map((s) => s.trim());
    if (parts.some((s) => s === "")) throw new InvalidArgumentError(`${what} must be a comma-separated list without empty items, got "${value}".`);
    const items = parts.map(parseItem);
    if (options.distinct) {
      const dup = items.find((item, i) => items.indexOf(item) !== i);
      if (dup !== undefined) throw new InvalidArgumentError(`${what} must list distinct values; ${String(dup)} appears more than once in "${value}".`);
    }
    return items;
  };
}
