/**
 * Whether one checkpoint can guide another (autoguidance, Karras et al. 2024, arXiv 2406.02507; docs/method.md 9.8).
 * The guide's denoiser is mixed with the main one at every step, D_guide + w (D - D_guide), so both must denoise the
 * same process (with the same prior and noise coordinates), in the same pixel coordinates, at the same image shape.
 * One comparator, shared by `fromPretrained` and `@dale/training`'s `checkGuide`, so that both refuse the same pairs.
 */

/** What autoguidance needs two checkpoints to share, as their manifests store it. */
export interface GuideFacts {
  /** The process, as `extra.sde` stores it (the SDE's `toJSON()`). */
  readonly sde: unknown;
  /** The pixel transform, as `extra.transform` stores it. */
  readonly transform: unknown;
  /** [height, width, channels]. */
  readonly shape: readonly number[];
}

/** JSON values compared by content: object keys in any order, array items in order. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * The first thing `guide` does not share with `main`: "process (extra.sde)", "pixel transform" or "image shape"; or
 * undefined when it can guide it.
 */
export function guideMismatch(main: GuideFacts, guide: GuideFacts): "process (extra.sde)" | "pixel transform" | "image shape" | undefined {
  if (!sameValue(main.sde, guide.sde)) return "process (extra.sde)";
  if (!sameValue(main.transform, guide.transform)) return "pixel transform";
  if (!sameValue(main.shape, guide.shape)) return "image shape";
  return undefined;
}

/** The sentence both loaders end a mismatch with. */
export const GUIDE_HINT = "autoguidance needs a weaker model of the same process and data (e.g. an earlier checkpoint of the same run)";
