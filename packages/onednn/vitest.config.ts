export { default } from "@dale/vitest-config";
