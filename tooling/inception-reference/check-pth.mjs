// Reads the .pth files that make_reference.py --pth-out wrote with torch.save (zip and legacy) through Dale's reader
// and checks that both hold the weights of the committed fixture: the same keys in the same order, int64
// num_batches_tracked, and float32 tensors whose SHA-256 is the fixture's paramsSha256. tooling/fixtures/check.sh runs
// it; it imports the built @dale/metrics (scripts/pnpm build first), as tooling/metrics-reference/bench.mjs does.
//
//   node tooling/inception-reference/check-pth.mjs <dir with random_inception.pth and random_inception_legacy.pth> [fixture.json]
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const { readTorchStateDict, torchTensorToFloat32 } = await import(join(root, "packages/metrics/dist/index.js"));
const [dir, fixturePath = join(root, "packages/metrics/src/inception/__fixtures__/inception-reference.json")] = process.argv.slice(2);
if (dir === undefined) {
  console.error("usage: node tooling/inception-reference/check-pth.mjs <dir> [fixture.json]");
  process.exit(2);
}
const fixture = JSON.parse(readFileSync(fixturePath, "utf8"));
const keys = fixture.stateDict.map((e) => e.key);
let failed = false;
for (const [file, format] of [["random_inception.pth", "zip"], ["random_inception_legacy.pth", "legacy"]]) {
  const path = join(dir, file);
  const sd = readTorchStateDict(readFileSync(path), { source: path });
  const problems = [];
  if (sd.format !== format) problems.push(`format ${sd.format}, expected ${format}`);
  const got = [...sd.tensors.keys()];
  if (got.join("\n") !== keys.join("\n")) problems.push(`keys differ from the fixture's (${got.length} against ${keys.length})`);
  const hash = createHash("sha256");
  for (const [key, t] of sd.tensors) {
    if (key.endsWith(".num_batches_tracked")) {
      if (t.dtype !== "int64") problems.push(`${key} is ${t.dtype}, expected int64`);
      continue;
    }
    const f = torchTensorToFloat32(t);
    hash.update(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  }
  const sha = hash.digest("hex");
  if (sha !== fixture.paramsSha256) problems.push(`float32 tensors hash to ${sha}, the fixture's paramsSha256 is ${fixture.paramsSha256}`);
  if (problems.length > 0) {
    failed = true;
    console.error(`${file}: ${problems.join("; ")}`);
  } else {
    console.log(`${file}: torch.save's ${format} file read by Dale's reader holds the fixture's ${keys.length} tensors (paramsSha256 ${sha.slice(0, 16)}...)`);
  }
}
process.exit(failed ? 1 : 0);
