// dale-train: trains a score network on an image dataset with M-DSM (GBM) or DSM (VP/VE), with exact resume.
import { userArgv } from "@dale/cli-kit";
import { trainCli } from "./train-main";

void trainCli(userArgv());
