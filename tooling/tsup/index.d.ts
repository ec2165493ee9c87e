/** What a package or application may change in the shared build (the rest stays as `library`/`application` set it). */
export interface BuildOverrides {
  /** Entry points; `library` defaults to `["src/index.ts"]`. */
  entry?: string[];
  /** `import.meta.url` and `__dirname` shims for the CJS build. */
  shims?: boolean;
  /** Declarations: `true`, or `{ entry }` for some entries only. */
  dts?: boolean | { entry: string | string[] };
  /**
   * Shared chunks for the CJS build too (tsup's experimental CJS splitting; ESM always splits), so that a package with
   * several entries that share code (a main entry and a Node-only one) loads one copy of it, classes included.
   */
  splitting?: boolean;
  /** Text put at the top of the output, e.g. `{ js: "#!/usr/bin/env node" }` for a bin. */
  banner?: { js?: string };
}

/**
 * tsup's options for a published @dale package: ESM and CJS, declarations, source maps, ES2022. The result is plain
 * data for tsup's config loader (typed loosely, so that no package's declarations depend on tsup's).
 */
export declare function library(overrides?: BuildOverrides): object;

/** tsup's options for an application of apps/: ESM for Node 20, source maps, no declarations unless asked. */
export declare function application(overrides: BuildOverrides & { entry: string[] }): object;
