import { library } from "@dale/tsup-config";

export default library();
