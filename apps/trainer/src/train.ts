// dale-train: trains a score network on an image dataset with M-DSM (GBM) or DSM (VP/VE), with exact resume.
import { fail, userArgv } from "./cli-util";
import { runTrain, trainExitCode } from "./train-main";

runTrain(userArgv()).catch((e: unknown) => {
  fail("train", e, trainExitCode(e));
});
