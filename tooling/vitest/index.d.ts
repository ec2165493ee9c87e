import type { UserConfig, ViteUserConfig } from "vitest/config";
export declare const setupFile: string;
export declare function daleVitestConfig(test?: ViteUserConfig["test"]): UserConfig;
declare const config: UserConfig;
export default config;
