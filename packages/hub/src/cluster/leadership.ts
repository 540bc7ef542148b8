/**
 * Leader-only chores: work that must run on one hub node at a time (retention of the
 * shared event log, housekeeping of shared tables). The election is the engines' own
 * locking, never a protocol of ours: a PostgreSQL session advisory lock per chore name
 * (postgres-leases.ts), or, on the embedded store where there is one node, always this
 * node (local-leases.ts).
 */

/** The work; `signal` aborts when this node loses the lease or the hub stops. */
export type LeaderChore = (signal: AbortSignal) => Promise<void>;

export type ChoreOptions = {
  /** How often the chore runs on the leader. */
  intervalMs: number;
  /** Told when a run fails (the next run comes at the next interval). */
  onError?: (error: unknown) => void;
};

export interface Leadership {
  /** Which engine elects: `local` (always leader) or `postgres` (advisory locks). */
  readonly kind: 'local' | 'postgres';
  /**
   * Runs `chore` every `intervalMs` on whichever single node holds the lease `name`;
   * this node campaigns for it from now on. A name is registered once per node.
   * Returns a function that stops running it here (and gives the lease up).
   */
  runAsLeader(name: string, chore: LeaderChore, options: ChoreOptions): () => void;
  /** True while this node holds the lease `name` (false for names it does not run). */
  isLeader(name: string): boolean;
  /** The chore names, each with whether this node leads it now (for metrics). */
  status(): Array<{ name: string; leader: boolean }>;
  /** Stops every chore (waits for running ones) and gives every lease up. Idempotent. */
  stop(): Promise<void>;
}

/** What an engine provides: named, exclusive leases that this node holds or not. */
export interface LeaseBackend {
  readonly kind: Leadership['kind'];
  /** Takes the lease if free; true when this node holds it (now or already). */
  tryAcquire(name: string): Promise<boolean>;
  /** Gives a lease up (no-op when not held). */
  release(name: string): Promise<void>;
  /**
   * Confirms the leases are still ours (e.g. the connection that holds them is alive);
   * returns the names still held. Losing the connection loses every lease.
   */
  verify(): Promise<ReadonlySet<string>>;
  close(): Promise<void>;
}
