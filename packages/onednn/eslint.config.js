export { default } from "@dale/eslint-config";
