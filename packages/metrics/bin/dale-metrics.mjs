#!/usr/bin/env node
// FID, KID, and precision and recall between two .npy files of feature rows (src/cli.ts; `dale-metrics --help`).
import { main } from "../dist/cli.js";

main();
