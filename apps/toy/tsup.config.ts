import { application } from "@dale/tsup-config";

export default application({ entry: ["src/main.ts"] });
