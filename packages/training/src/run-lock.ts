// A run folder has one writer: dale-train (and dale-export, while it writes) holds `<out>/train.lock` for as long
// as it writes there, so that a second trainer on the same --out is refused instead of interleaving loss.csv rows
// and deleting the other's checkpoints.
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/** The lock file's name inside a run folder. */
export const LOCK_FILE = "train.lock";

/** What `<out>/train.lock` holds: who writes the folder, since when, and with which command line. */
export interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
  argv: string[];
}

/**
 * A held lock. `release()` removes the file (only if it still holds this holder's lock) and may be called more than
 * once; until then the lock is also released when the process ends by SIGINT, SIGTERM or SIGHUP (it then still ends by
 * that signal) or by `process.exit`. Only SIGKILL and crashes of the runtime leave it behind, as a stale lock.
 */
export interface RunLock {
  readonly path: string;
  readonly info: LockInfo;
  release(): void;
}

/** Lock files held by this process (so that a lock naming our own pid that we do not hold is known to be stale). */
const held = new Set<string>();

/** How long a lock file that cannot be parsed yet (its creator is between open and write) is waited for. */
const UNREADABLE_WAIT_MS = 2000;

/**
 * Takes `<out>/train.lock` (the folder must exist) for this process: creates it atomically (open with "wx") holding
 * `{ pid, hostname, startedAt, argv }`. A lock of a live process is refused with an error naming the folder, the
 * holder and what to do. A stale lock (its pid is not alive on this host) is removed with a note on stderr and taken
 * over. `what` names the command in messages ("dale-train"); `note` receives that notice (default: printed to stderr as
`[<what>] note: ...`).
 */
export function acquireRunLock(out: string, options: { argv: readonly string[]; what: string; note?: (message: string) => void }): RunLock {
  const path = join(out, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), argv: [...options.argv] };
  const text = `${JSON.stringify(info)}\n`;
  const deadline = Date.now() + UNREADABLE_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, text, { flag: "wx" });
      held.add(path);
      const stopWatching = releaseOnExit(() => releaseLock(path, text));
      return {
        path,
        info,
        release: () => {
          stopWatching();
          releaseLock(path, text);
        },
      };
    } catch (e) {
      if (code(e) !== "EEXIST") throw e;
    }
    const found = readLock(path);
    if (found === "missing" && attempt < 100) continue; // released between our open and our read: try again
    if (found === "missing" || found === "unreadable") {
      if (Date.now() < deadline) {
        sleepSync(50);
        continue;
      }
      throw new Error(
        `${out} is locked by ${path}, which does not hold a valid lock (${JSON.stringify(readRaw(path)?.slice(0, 200) ?? "")}). ` +
          `If no dale-train or dale-export writes into ${out}, delete ${path} and run ${options.what} again.`,
      );
    }
    const { lock, raw } = found;
    if (lockIsLive(path, lock) || attempt >= 10) throw new Error(heldMessage(out, path, lock, options.what));
    // Stale: move it aside under a name of our own (one process wins the rename), check that what we moved is the
    // stale lock we judged and not one a faster process has just created, then try again.
    const aside = `${path}.stale-${process.pid}-${Date.now()}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if (code(e) === "ENOENT") continue;
      throw e;
    }
    const moved = readRaw(aside);
    if (moved !== raw) {
      // Another process replaced the stale lock first: put its live lock back (link fails if a third one exists).
      try {
        linkSync(aside, path);
      } catch (e) {
        if (code(e) !== "EEXIST") throw e;
      }
    } else {
      (options.note ?? ((m: string) => console.error(`[${options.what}] note: ${m}`)))(
        `${path} was left by process ${lock.pid} on ${lock.hostname} (started ${lock.startedAt}), which is no longer running; taking it over.`,
      );
    }
    unlinkSync(aside);
  }
}

/** The message of a refused lock: the folder, the holder (pid, host, start, command) and how to proceed. */
function heldMessage(out: string, path: string, lock: LockInfo, what: string): string {
  const here = lock.hostname === hostname();
  const command = lock.argv.length > 0 ? `: ${lock.argv.slice(2).join(" ") || lock.argv.join(" ")}` : "";
  return (
    `${out} is being written by process ${lock.pid} on ${here ? "this host" : "another host"} (${lock.hostname}), started ${lock.startedAt}${command} (lock ${path}). ` +
    `A run folder has one writer: wait for that process to end (or stop it), or give ${what} another --out. ` +
    (here
      ? `If process ${lock.pid} is not a dale-train or dale-export writing into ${out}, delete ${path}.`
      : `This host cannot see whether it is still running; if it is not, delete ${path}.`)
  );
}

/** Whether the process a lock names may still be writing: a live pid on this host, any lock from another host. */
function lockIsLive(path: string, lock: LockInfo): boolean {
  if (lock.hostname !== hostname()) return true;
  if (lock.pid === process.pid) return held.has(path);
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (e) {
    return code(e) !== "ESRCH"; // EPERM: alive, owned by another user
  }
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Calls `release` when the process is ended by a signal of SIGNALS (then re-raises it) or exits; returns the undo. */
function releaseOnExit(release: () => void): () => void {
  const stop = () => {
    for (const s of SIGNALS) process.off(s, onSignal);
    process.off("exit", release);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    stop();
    process.kill(process.pid, signal); // no listener left: the default action ends the process by this signal
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on("exit", release);
  return stop;
}

/** Removes the lock if it still holds `text` (ours); a lock someone else took over is left alone. */
function releaseLock(path: string, text: string): void {
  if (!held.has(path)) return;
  held.delete(path);
  if (readRaw(path) === text) {
    try {
      unlinkSync(path);
    } catch (e) {
      if (code(e) !== "ENOENT") throw e;
    }
  }
}

/** The lock at `path`, if a valid one is there. */
export function readLock(path: string): { lock: LockInfo; raw: string } | "missing" | "unreadable" {
  const raw = readRaw(path);
  if (raw === null) return "missing";
  try {
    const v = JSON.parse(raw) as Partial<LockInfo>;
    if (Number.isInteger(v.pid) && (v.pid as number) > 0 && typeof v.hostname === "string" && typeof v.startedAt === "string" && Array.isArray(v.argv)) {
      return { lock: { pid: v.pid as number, hostname: v.hostname, startedAt: v.startedAt, argv: v.argv.map(String) }, raw };
    }
  } catch {
    // not (yet) JSON
  }
  return "unreadable";
}

function readRaw(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if (code(e) === "ENOENT") return null;
    throw e;
  }
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
