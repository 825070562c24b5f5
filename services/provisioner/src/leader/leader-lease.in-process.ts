import type { LeaderLease, LeaderTerm, LeaseRole } from './leader-lease.port.js';

/**
 * The lease of a platform with one candidate (`npm start`, tests): it leads from the start and until stopped.
 * Nothing to elect, nothing to fence.
 */
export class AlwaysLeader implements LeaderLease {
  readonly holder = `in-process-${process.pid}`;
  private current: LeaseRole = 'standby';
  private term: LeaderTerm | null = null;

  async start(lead: () => Promise<LeaderTerm>): Promise<void> {
    if (this.current !== 'standby') throw new Error(`the lease cannot start: it is ${this.current}`);
    this.term = await lead();
    this.current = 'leader';
  }

  role(): LeaseRole {
    return this.current;
  }

  async stop(): Promise<void> {
    this.current = 'stopped';
    const term = this.term;
    this.term = null;
    await term?.stop();
  }
}
