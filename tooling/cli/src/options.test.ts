import { Command, CommanderError, InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { int, list, num, oneOf, type ArgParser } from "./index";

/** The error a parser throws for `value`, checked to be commander's InvalidArgumentError. */
function rejection(parse: ArgParser<unknown>, value: string): InvalidArgumentError {
  try {
    parse(value);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    return e as InvalidArgumentError;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
}
const message = (parse: ArgParser<unknown>, value: string) => rejection(parse, value).message;

describe("int", () => {
  it("accepts decimal integers in [min, max], signs and surrounding spaces included", () => {
    const p = int("--batch", 1, 64);
    expect(["1", "64", " 32 ", "+7", "007"].map(p)).toEqual([1, 64, 32, 7, 7]);
    expect(int("--offset", -5, 5)("-5")).toBe(-5);
    expect(int("--seed", 0, 2 ** 31 - 1)("2147483647")).toBe(2 ** 31 - 1);
  });

  it("rejects what is not a decimal integer, quoting the text as given", () => {
    const p = int("--steps", 1, 100);
    for (const bad of ["abc", "", " ", "1.5", "2.0", "1e3", "0x10", "1_000", "10 20", "--1", "NaN", "Infinity"]) {
      expect(message(p, bad), bad).toBe(`--steps must be an integer, got "${bad}".`);
    }
  });

  it("rejects values outside [min, max] with the range and the value read", () => {
    const p = int("--batch", 1, 65536);
    expect(message(p, "0")).toBe("--batch must be between 1 and 65536, got 0.");
    expect(message(p, "65537")).toBe("--batch must be between 1 and 65536, got 65537.");
    expect(message(p, " -3")).toBe("--batch must be between 1 and 65536, got -3.");
    expect(message(p, "+0100000")).toBe("--batch must be between 1 and 65536, got 100000.");
  });

  it("without max: any safe integer from min up; below min says 'at least'", () => {
    const p = int("--steps", 1);
    expect(p("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
    expect(message(p, "0")).toBe("--steps must be at least 1, got 0.");
    expect(message(int("--checkpoint-every", 0), "-1")).toBe("--checkpoint-every must be at least 0, got -1.");
    expect(message(p, "9007199254740993")).toBe("--steps must be between 1 and 9007199254740991, got 9007199254740992.");
  });
});

describe("num", () => {
  const positive = num("--lr", (v) => v > 0, "a positive number");

  it("accepts every finite form Number reads, when ok(v) holds", () => {
    expect(["2e-4", "0.5", " 3 ", "1", ".25", "0x10"].map(positive)).toEqual([2e-4, 0.5, 3, 1, 0.25, 16]);
    expect(num("--ema", (v) => v >= 0 && v < 1, "in [0, 1)")("0")).toBe(0);
  });

  it("rejects empty, non-numeric, non-finite and out-of-range values, naming what was expected", () => {
    for (const bad of ["", "  ", "abc", "1,5", "NaN", "Infinity", "-Infinity", "1e999", "0", "-2"]) {
      expect(message(positive, bad), bad).toBe(`--lr must be a positive number, got "${bad}".`);
    }
    expect(message(num("--ema", (v) => v >= 0 && v < 1, "in [0, 1)"), "1")).toBe('--ema must be in [0, 1), got "1".');
  });
});

describe("oneOf", () => {
  const p = oneOf("--process", ["gbm", "vp", "ve"] as const);

  it("accepts each choice and keeps its literal type", () => {
    const v: "gbm" | "vp" | "ve" = p("vp");
    expect(v).toBe("vp");
    expect(["gbm", "vp", "ve"].map(p)).toEqual(["gbm", "vp", "ve"]);
  });

  it("rejects anything else, exact spelling required, listing the choices", () => {
    for (const bad of ["", "GBM", " vp", "v", "gbm,vp"]) {
      expect(message(p, bad), bad).toBe(`--process must be one of gbm, vp, ve, got "${bad}".`);
    }
  });
});

describe("list", () => {
  const steps = list("--steps", int("every step count", 1, 100000), { distinct: true });
  const nfe = list("--nfe", int("every item of --nfe", 1));

  it("parses trimmed comma-separated items in order", () => {
    expect(steps("1000,20,10,5")).toEqual([1000, 20, 10, 5]);
    expect(steps(" 50, 7 ")).toEqual([50, 7]);
    expect(steps("3")).toEqual([3]);
    expect(list("--grids", oneOf("every item of --grids", ["uniform", "karras"] as const))("karras, uniform")).toEqual(["karras", "uniform"]);
  });

  it("rejects an empty list and empty items, naming the option", () => {
    expect(message(steps, "")).toBe('--steps must be a non-empty comma-separated list, got "".');
    expect(message(steps, "  ")).toBe('--steps must be a non-empty comma-separated list, got "  ".');
    for (const bad of ["10,,5", "10,", ",10", "10, ,5", ","]) {
      expect(message(steps, bad), bad).toBe(`--steps must be a comma-separated list without empty items, got "${bad}".`);
    }
  });

  it("passes the item parser's error through unchanged", () => {
    expect(message(steps, "10,0")).toBe("every step count must be between 1 and 100000, got 0.");
    expect(message(steps, "10,x")).toBe('every step count must be an integer, got "x".');
    expect(message(nfe, "10,0")).toBe("every item of --nfe must be at least 1, got 0.");
  });

  it("keeps repeated values unless distinct, which rejects them after parsing", () => {
    expect(nfe("10,20,10")).toEqual([10, 20, 10]);
    expect(message(steps, "3,3")).toBe('--steps must list distinct values; 3 appears more than once in "3,3".');
    expect(message(steps, "5, 7, +5")).toBe('--steps must list distinct values; 5 appears more than once in "5, 7, +5".');
    const grids = list("--grids", oneOf("every item of --grids", ["uniform", "karras"] as const), { distinct: true });
    expect(message(grids, "karras,karras")).toBe('--grids must list distinct values; karras appears more than once in "karras,karras".');
  });
});

describe("with commander", () => {
  const program = () =>
    new Command("example")
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
      .option("--steps <n>", "number of steps", int("--steps", 1, 100_000), 100)
      .option("--nfe <list>", "budgets", list("--nfe", int("every item of --nfe", 1)));

  it("hands the parsed values to opts()", () => {
    expect(program().parse(["--steps", "10", "--nfe", "5,10"], { from: "user" }).opts()).toEqual({ steps: 10, nfe: [5, 10] });
  });

  it("prints the option's flags, the text and the message, and exits with code 1", () => {
    const err = (args: string[]) => {
      try {
        program().parse(args, { from: "user" });
      } catch (e) {
        expect(e).toBeInstanceOf(CommanderError);
        return e as CommanderError;
      }
      throw new Error("expected a CommanderError");
    };
    const steps = err(["--steps", "abc"]);
    expect(steps.code).toBe("commander.invalidArgument");
    expect(steps.exitCode).toBe(1);
    expect(steps.message).toBe(`error: option '--steps <n>' argument 'abc' is invalid. --steps must be an integer, got "abc".`);
    expect(err(["--nfe", "5,,10"]).message).toBe(
      `error: option '--nfe <list>' argument '5,,10' is invalid. --nfe must be a comma-separated list without empty items, got "5,,10".`,
    );
  });
});
