/**
 * How long this member may trust that it still owns its partitions. The group coordinator drops a
 * member whose heartbeats stop for a session timeout and gives its partitions to another, which then
 * writes newer versions; the dropped member learns of it only at its next heartbeat, which a stalled
 * process (a long GC, a frozen VM, a paused container) sends late. So documents held in memory are
 * served only while the last heartbeat the coordinator accepted is recent enough that the session
 * cannot have expired since: a fraction of the session timeout, for the heartbeat's own round trip.
 */
/** The share of the session timeout a confirmed heartbeat vouches for. */
export const leaseValidForMs = (sessionTimeoutMs: number): number => Math.floor(sessionTimeoutMs * 0.9);

export class MembershipLease {
  private confirmedAt = Number.NEGATIVE_INFINITY;
  private readonly validForMs: number;

  constructor(
    sessionTimeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.validForMs = leaseValidForMs(sessionTimeoutMs);
  }

  /** The coordinator accepted a heartbeat (or a join) of this member sent at `sentAt`. */
  confirm(sentAt: number = this.now()): void {
    this.confirmedAt = Math.max(this.confirmedAt, sentAt);
  }

  /** A rebalance began or the consumer crashed: ownership is unknown until the next join. */
  revoke(): void {
    this.confirmedAt = Number.NEGATIVE_INFINITY;
  }

  get valid(): boolean {
    return this.now() - this.confirmedAt < this.validForMs;
  }
}
