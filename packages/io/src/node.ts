// The Node-only entry, "@dale/io/node": durable file writes (node:fs, node:crypto, node:path).
export { writeFileAtomic, syncDir } from "./fs";
