// Console login limits (rate-limiter-flexible): failed logins are counted per username and per
// client address over a window; past either budget the login answers 429 with Retry-After before
// any password is hashed, so a blocked guess costs nothing. With PostgreSQL the counters live in
// the rate_limits table (migration 006), shared by every replica; with PGlite (one process) in
// memory. The password check itself runs on a bounded HashQueue (503 when full), so a flood of
// logins cannot starve anything else of the thread pool.
import pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from 'pino';
import type { CloudConfig } from '../config.ts';
import { HashQueue } from './hash-queue.ts';

export type LoginVerdict = { allowed: true } | { allowed: false; retryAfterS: number; reason: 'username' | 'address' };

type Limits = Pick<CloudConfig, 'loginMaxFailuresPerUser' | 'loginMaxFailuresPerAddress' | 'loginWindowS' | 'passwordHashConcurrency' | 'passwordHashQueue' | 'databaseUrl'>;

function limiter(points: number, duration: number, keyPrefix: string, pool: pg.Pool | null): RateLimiterAbstract {
  if (pool === null) return new RateLimiterMemory({ points, duration, keyPrefix });
  return new RateLimiterPostgres({ storeClient: pool, tableName: 'rate_limits', tableCreated: true, clearExpiredByTimeout: false, points, duration, keyPrefix });
}

export class LoginGuard {
  /** The queue every console password check goes through. */
  readonly hashes: HashQueue;
  private readonly byUser: RateLimiterAbstract;
  private readonly byAddress: RateLimiterAbstract;

  private constructor(
    limits: Limits,
    private readonly pool: pg.Pool | null,
  ) {
    this.hashes = new HashQueue(limits.passwordHashConcurrency, limits.passwordHashQueue);
    this.byUser = limiter(limits.loginMaxFailuresPerUser, limits.loginWindowS, 'login_user', pool);
    this.byAddress = limiter(limits.loginMaxFailuresPerAddress, limits.loginWindowS, 'login_addr', pool);
  }

  static create(limits: Limits, log: Logger): LoginGuard {
    let pool: pg.Pool | null = null;
    if (limits.databaseUrl !== null) {
      pool = new pg.Pool({ connectionString: limits.databaseUrl, max: 2 });
      pool.on('error', (err) => log.warn({ err }, 'login limiter: idle PostgreSQL connection lost'));
    }
    return new LoginGuard(limits, pool);
  }

  /** Before hashing: may this username from this address try now? */
  async check(username: string, address: string): Promise<LoginVerdict> {
    const [user, addr] = await Promise.all([this.byUser.get(username), this.byAddress.get(address)]);
    const blocked = (res: RateLimiterRes | null, max: number): number | null => (res && res.consumedPoints >= max ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : null);
    const userWait = blocked(user, this.byUser.points);
    if (userWait !== null) return { allowed: false, retryAfterS: userWait, reason: 'username' };
    const addrWait = blocked(addr, this.byAddress.points);
    if (addrWait !== null) return { allowed: false, retryAfterS: addrWait, reason: 'address' };
    return { allowed: true };
  }

  async failed(username: string, address: string): Promise<void> {
    // consume() rejects with a RateLimiterRes once the budget is used up: that is the expected end.
    const count = (l: RateLimiterAbstract, key: string): Promise<unknown> => l.consume(key).catch((res: unknown) => (res instanceof RateLimiterRes ? res : Promise.reject(res)));
    await Promise.all([count(this.byUser, username), count(this.byAddress, address)]);
  }

  /** A successful login clears the username's failures (not the address's: one right password must not reset a spray). */
  async succeeded(username: string): Promise<void> {
    await this.byUser.delete(username);
  }

  async stop(): Promise<void> {
    await this.pool?.end();
  }
}
