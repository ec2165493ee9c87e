// Builds the oneDNN addon, build/dale_onednn.node, from native/dale_onednn.cc with the system's C++ compiler.
//
//   node scripts/build-native.mjs            build; exit 1 with the reason when it cannot
//   node scripts/build-native.mjs --optional  build when it can; otherwise say why and exit 0 (the install step)
//
// Needs a C++17 compiler (CXX, else c++ or g++) and oneDNN 2.x's headers and library (Debian: libdnnl-dev; elsewhere
// set DNNL_ROOT to a folder with include/oneapi/dnnl and lib). Node's API headers come from the node-api-headers
// package, so nothing is downloaded (node-gyp would fetch Node's headers from nodejs.org). Writes to a temporary name
// and renames, so that a failed build never leaves a broken addon behind.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const optional = process.argv.includes("--optional");
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build", "dale_onednn.node");

function fail(reason) {
  if (optional) {
    console.log(`[@dale/onednn] not built: ${reason}. @dale/backend runs without it.`);
    process.exit(0);
  }
  console.error(`[@dale/onednn] build-native: ${reason}`);
  process.exit(1);
}

if (process.platform !== "linux") fail(`builds on Linux only so far (this is ${process.platform})`);
const require = createRequire(import.meta.url);
let napiInclude;
try {
  napiInclude = require("node-api-headers").include_dir;
} catch {
  fail("the node-api-headers package is not installed");
}
const dnnlRoot = process.env.DNNL_ROOT ?? "/usr";
const dnnlHeader = join(dnnlRoot, "include", "oneapi", "dnnl", "dnnl.hpp");
if (!existsSync(dnnlHeader)) fail(`no oneDNN headers at ${dnnlHeader} (Debian: apt-get install libdnnl-dev; else set DNNL_ROOT)`);

const candidates = [process.env.CXX, "c++", "g++"].filter((c) => c !== undefined && c !== "");
const cxx = candidates.find((c) => {
  try {
    execFileSync(c, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
});
if (cxx === undefined) fail(`no C++ compiler (tried ${candidates.join(", ")}; Debian: apt-get install g++)`);

mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
const args = [
  "-O2", "-std=c++17", "-shared", "-fPIC", "-fopenmp", "-fvisibility=hidden",
  "-DNODE_GYP_MODULE_NAME=dale_onednn", "-DNAPI_VERSION=8",
  `-I${napiInclude}`, `-I${join(dnnlRoot, "include")}`,
  join(root, "native", "dale_onednn.cc"),
  `-L${join(dnnlRoot, "lib")}`, "-ldnnl",
  "-o", tmp,
];
try {
  execFileSync(cxx, args, { stdio: ["ignore", "inherit", "inherit"] });
} catch (e) {
  rmSync(tmp, { force: true });
  fail(`${cxx} failed (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`);
}
renameSync(tmp, out);
console.log(`[@dale/onednn] built ${out}`);
