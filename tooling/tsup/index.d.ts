/** What a package may change in the shared build (the rest of tsup's options stay as `library` sets them). */
export interface LibraryOverrides {
  /** Entry points; default `["src/index.ts"]`. */
  entry?: string[];
  /** `import.meta.url` and `__dirname` shims for the CJS build. */
  shims?: boolean;
}

/**
 * tsup's options for a published @dale package: ESM and CJS, declarations, source maps, ES2022. The result is plain
 * data for tsup's config loader (typed loosely, so that no package's declarations depend on tsup's).
 */
export declare function library(overrides?: LibraryOverrides): object;
