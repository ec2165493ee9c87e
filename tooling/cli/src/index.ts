// @dale/cli-kit: what the apps' command lines share (private to this workspace; see README.md).
export { int, list, num, oneOf, type ArgParser } from "./options";
export { fail, userArgv, userPath } from "./process";
export { captionPng, renderPng, sideBySidePng } from "./png";
