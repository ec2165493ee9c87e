import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { copyFile, mkdir, rename, rm, symlink } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { CheckpointState } from "@dale/models";
import { saveCheckpoint, syncDir } from "@dale/models/node";

/**
 * The run folder's checkpoint, kept as one complete checkpoint at all times:
 *
 *     <out>/checkpoints/step-<N>-<id>/   checkpoint.json, model/ema/optimizer .safetensors, loss.csv
 *     <out>/checkpoint -> checkpoints/step-<N>-<id>   (a symbolic link)
 *
 * A save writes a fresh folder, completes it (`saveCheckpoint` writes checkpoint.json last), then points the link at
 * it by renaming a new link over the old one, which is atomic; only then are older folders removed. A kill at any
 * moment therefore leaves `<out>/checkpoint` pointing at a complete checkpoint (or absent, before the first save).
 */
export class CheckpointStore {
  readonly out: string;
  readonly link: string;
  readonly folder: string;

  constructor(out: string) {
    this.out = resolve(out);
    this.link = join(this.out, "checkpoint");
    this.folder = join(this.out, "checkpoints");
  }

  /** The folder `<out>/checkpoint` points at, or null when there is none yet. */
  current(): string | null {
    let stat;
    try {
      stat = lstatSync(this.link);
    } catch {
      return null;
    }
    if (!stat.isSymbolicLink()) {
      throw new Error(`${this.link} exists but is not the link dale-train writes; move it away or choose another --out.`);
    }
    return resolve(this.out, readlinkSync(this.link));
  }

  /** Removes checkpoint folders the link does not point at (left by a kill during a save). */
  cleanStale(): void {
    if (!existsSync(this.folder)) return;
    const keep = this.current();
    for (const name of readdirSync(this.folder)) {
      const path = join(this.folder, name);
      if (path !== keep) rmSync(path, { recursive: true, force: true });
    }
  }

  /** Saves `state` (with a copy of `lossCsv`) as the new current checkpoint; returns its folder. */
  async save(state: CheckpointState, lossCsv: string): Promise<string> {
    await mkdir(this.folder, { recursive: true });
    const name = `step-${String(state.step).padStart(8, "0")}-${randomBytes(4).toString("hex")}`;
    const dir = join(this.folder, name);
    await mkdir(dir);
    if (existsSync(lossCsv)) await copyFile(lossCsv, join(dir, "loss.csv"));
    await saveCheckpoint(dir, state, { dtype: "F32" });
    const tmp = join(this.out, `.checkpoint.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    await symlink(join("checkpoints", name), tmp, "dir");
    try {
      await rename(tmp, this.link);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    await syncDir(this.out);
    for (const other of readdirSync(this.folder)) {
      if (other !== name) await rm(join(this.folder, other), { recursive: true, force: true });
    }
    return this.link;
  }

  /** Display name of the current checkpoint: `<out>/checkpoint (-> checkpoints/step-...)`. */
  describe(): string {
    const cur = this.current();
    return cur === null ? "none" : `${this.link} (-> checkpoints/${basename(cur)})`;
  }
}
