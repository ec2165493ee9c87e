// @dale/models/node: checkpoint folders (save, load, fromPretrained with paths) and atomic file writes. The main
// entry, which bundles for a browser, has the networks, the checkpoint format over bytes, URLs and fromPretrained.
export { saveCheckpoint, loadCheckpoint, folderSource, fromPretrained } from "./checkpoint-folder";
export { writeFileAtomic, syncDir } from "@dale/io/node";
