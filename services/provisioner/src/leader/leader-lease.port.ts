/**
 * One provisioner at a time (DESIGN §2.1 "One active provisioner"): candidates campaign for a lease, and only the
 * holder runs the reconcile loop and the runtime. The port hides where the lease lives (NATS KV in distributed
 * mode; nowhere in `npm start`, where the only candidate always leads).
 */

/** What a leader runs while it holds the lease: started when it is elected, stopped when its term ends. */
export interface LeaderTerm {
  /** Stops reconciling and releases what the term started (its replicas, for the local runtime). Idempotent. */
  stop(): Promise<void>;
}

export type LeaseRole = 'leader' | 'standby' | 'stopped';

export interface LeaderLease {
  /** This candidate's id as the lease records it: unique per process start. */
  readonly holder: string;
  /**
   * Starts campaigning in the background. Each time this candidate is elected, `lead()` starts a term; the term is
   * stopped the moment the lease is lost (fencing: a leader that cannot renew in time stops before any standby may
   * take over), and on `stop()`. A term that fails to start gives the lease up for others.
   */
  start(lead: () => Promise<LeaderTerm>): Promise<void>;
  role(): LeaseRole;
  /** Ends the term (if leading) while still holding the lease, then releases it so a standby takes over at once. */
  stop(): Promise<void>;
}
