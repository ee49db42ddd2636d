import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import type { Database, GenerationRow } from '@gptmarket/db';
import type { Logger } from '@gptmarket/runtime';

/** The channel every gateway replica listens on; a payload is lines of `<generation id> <revision> <sender>`. */
export const CHANGES_CHANNEL = 'gptmarket_generation_changes';
/** Changes per notification at most (a payload must stay under PostgreSQL's 8000 bytes; a line is about 40). */
const CHANGES_PER_NOTIFY = 100;
/** The advisory lock whose holder runs the tracker and dispatches webhooks (one replica at a time). */
const LEADER_LOCK = 7_406_170_112_031_001n;
/** How often a follower tries to take the lock, and how often the leader checks its session is alive. */
const LEADER_CHECK_MS = 1_000;

export interface ClusterOptions {
  /** The PostgreSQL URL (DATABASE_URL). */
  url: string;
  /** The shared pool: notifications go through it, so they survive the coordination session's reconnects. */
  db: Database;
  log: Logger;
  /** A generation changed in another replica (its id and new revision). */
  onRemoteChange: (id: string, revision: number) => void;
  /** This replica became the leader (true) or stopped being it (false). */
  onLeadership: (leading: boolean) => void;
  /** After the coordination session reconnects: notifications may have been missed meanwhile. */
  onResync: () => void;
}

/**
 * Gateway replicas sharing one PostgreSQL database: changes announced with `NOTIFY` reach every replica's SSE
 * listeners whichever replica observed them, and a session-level advisory lock elects the one replica that runs
 * the background duties. The lock lives as long as the leader's session: when the leader dies, PostgreSQL ends its
 * session and another replica takes the lock within a second. PGlite needs none of this (one process).
 */
export class Cluster {
  /** Tells this replica's own notifications apart (it already published them locally). */
  readonly instance = randomBytes(6).toString('base64url');
  private session: pg.Client | null = null;
  private leading = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private checking = false;
  private connectedOnce = false;
  private down = false;
  /** Changes waiting for the notification in flight to end: they go together in the next one. */
  private pending: Array<{ line: string; settle: (err?: Error) => void }> = [];
  private notifying = false;

  constructor(private readonly opts: ClusterOptions) {}

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), LEADER_CHECK_MS);
    this.timer.unref();
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Tells the other replicas that a record changed (delivered when the write's transaction has committed). One
   * notification at a time: changes made meanwhile go together in the next, so a busy replica sends a statement per
   * batch rather than per change, and an idle one sends at once.
   */
  announce(row: Pick<GenerationRow, 'id' | 'revision'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line: `${row.id} ${row.revision} ${this.instance}`, settle: (err) => (err ? reject(err) : resolve()) });
      if (!this.notifying) void this.notify();
    });
  }

  private async notify(): Promise<void> {
    this.notifying = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, CHANGES_PER_NOTIFY);
      const payload = batch.map((c) => c.line).join('\n');
      try {
        await this.opts.db.execute(sql`select pg_notify(${CHANGES_CHANNEL}, ${payload})`);
        for (const c of batch) c.settle();
      } catch (err) {
        for (const c of batch) c.settle(err as Error);
      }
    }
    this.notifying = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.setLeading(false);
    const session = this.session;
    this.session = null;
    // Ending the session releases the lock at once, so a follower takes over without waiting for a timeout.
    await session?.end().catch(() => {});
  }

  /** One round: (re)connect and listen, then take the lock or prove we still hold it. */
  private async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      if (!this.session) await this.connect();
      const session = this.session!;
      if (this.leading) {
        await withTimeout(session.query('select 1'), 5_000);
      } else {
        const { rows } = await withTimeout(session.query('select pg_try_advisory_lock($1::bigint) as ok', [LEADER_LOCK.toString()]), 5_000);
        if (rows[0]?.ok) {
          this.opts.log.info('this gateway now runs the tracker and webhook dispatch (leader)', { instance: this.instance });
          this.setLeading(true);
        }
      }
      if (this.down) this.opts.log.info('coordination session restored');
      this.down = false;
    } catch (err) {
      if (!this.down) {
        this.opts.log.error('coordination session with PostgreSQL lost: this replica stops its background duties until it reconnects', {
          error: (err as Error).message,
        });
      }
      this.down = true;
      this.drop();
    } finally {
      this.checking = false;
    }
  }

  private async connect(): Promise<void> {
    const session = new pg.Client({ connectionString: this.opts.url, connectionTimeoutMillis: 5_000, keepAlive: true });
    session.on('error', () => this.drop(session));
    session.on('end', () => this.drop(session));
    session.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL || !msg.payload) return;
      for (const line of msg.payload.split('\n')) {
        const [id, revision, sender] = line.split(' ');
        if (!id || sender === this.instance || !/^\d+$/.test(revision ?? '')) continue;
        this.opts.onRemoteChange(id, Number(revision));
      }
    });
    try {
      await session.connect();
      await session.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      await session.end().catch(() => {});
      throw err;
    }
    if (this.stopped) {
      await session.end().catch(() => {});
      return;
    }
    this.session = session;
    if (this.connectedOnce) this.opts.onResync();
    this.connectedOnce = true;
  }

  /** The session is gone (or `session` is, if given): so are the lock and the subscription. */
  private drop(session: pg.Client | null = this.session): void {
    if (!session || session !== this.session) return;
    this.session = null;
    this.setLeading(false);
    void session.end().catch(() => {});
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (!leading && !this.stopped) this.opts.log.warn('this gateway is no longer the leader');
    this.opts.onLeadership(leading);
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
};
