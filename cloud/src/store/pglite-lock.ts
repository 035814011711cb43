// One process owns a PGlite data folder. PGlite is an in-process PostgreSQL: a second process
// opening the same files would run a second, diverging server on them (what `user add` beside a
// running demo did). Like PostgreSQL's own postmaster.pid, the owner writes a lock file with its
// pid; a second opener gets a clear error naming the owner, unless the owner is gone (stale lock,
// e.g. after kill -9), which is taken over. The owner may also advertise its API URL in the lock,
// so admin commands can talk to it instead (gridwatch-cloud user add).
import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

/**
 * The owner touches its lock this often. A pid cannot be probed across hosts (a container
 * recreated with a new hostname on the same volume), so there a lock not touched for
 * STALE_AFTER_MS counts as left behind.
 */
const REFRESH_MS = 5_000;
const STALE_AFTER_MS = 20_000;

export interface LockHolder {
  pid: number;
  hostname: string;
  startedAt: string;
  /** The running cloud's HTTP base URL, once it listens. */
  httpUrl?: string;
}

export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `dataDir: ${dataDir} is in use by process ${holder.pid} on ${holder.hostname} (since ${holder.startedAt}${holder.httpUrl ? `, API at ${holder.httpUrl}` : ''}); ` +
        'one process owns an embedded PGlite folder: stop that process, or send admin commands to its API (--api-url with --admin-token)',
    );
  }
}

export function lockFileOf(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'pglite.lock');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live owner of the folder, or null (no lock, or a stale one: its process is gone, or another host's lock went untouched). */
export function lockHolder(dataDir: string): LockHolder | null {
  let holder: LockHolder;
  let touchedAt: number;
  try {
    holder = JSON.parse(readFileSync(lockFileOf(dataDir), 'utf8')) as LockHolder;
    touchedAt = statSync(lockFileOf(dataDir)).mtimeMs;
  } catch {
    return null;
  }
  if (!Number.isInteger(holder.pid)) return null;
  if (holder.hostname !== hostname()) return Date.now() - touchedAt < STALE_AFTER_MS ? holder : null;
  return alive(holder.pid) ? holder : null;
}

export class StoreLock {
  private readonly refresh: NodeJS.Timeout;

  private constructor(
    private readonly file: string,
    private holder: LockHolder,
  ) {
    this.refresh = setInterval(() => {
      const now = new Date();
      try {
        utimesSync(this.file, now, now);
      } catch {
        // The folder went away (a test's temp dir): nothing left to guard.
      }
    }, REFRESH_MS);
    this.refresh.unref();
  }

  /** Takes the folder's lock or throws StoreLockedError; a stale lock is replaced. */
  static acquire(dataDir: string): StoreLock {
    const file = lockFileOf(dataDir);
    const me: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        // 'wx' = O_CREAT | O_EXCL: exactly one of two racing openers creates the file.
        writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: 'wx' });
        return new StoreLock(file, me);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = lockHolder(dataDir);
        // A live holder, this very process included (a second open of the same folder), keeps it.
        if (holder) throw new StoreLockedError(path.resolve(dataDir), holder);
        rmSync(file, { force: true }); // stale: its process is gone
      }
    }
    throw new Error(`dataDir: could not take ${file}`);
  }

  /** Records facts about the owner (its API URL) for other processes to read. */
  advertise(facts: Pick<LockHolder, 'httpUrl'>): void {
    this.holder = { ...this.holder, ...facts };
    writeFileSync(this.file, `${JSON.stringify(this.holder)}\n`);
  }

  release(): void {
    clearInterval(this.refresh);
    rmSync(this.file, { force: true });
  }
}
