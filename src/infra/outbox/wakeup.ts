/**
 * Wakes the outbox relay after a commit that appended events, outside the append's transaction:
 * a NOTIFY inside it would take PostgreSQL's cluster-wide notify lock until commit and serialise
 * every append. The leader is usually this process and is woken in memory. When another replica
 * leads, a NOTIFY (a tiny transaction of its own) wakes it, at most one per `intervalMs`, so a
 * burst of writes costs a few. The relay's polling covers a NOTIFY that is lost.
 */
export class RelayWakeup {
  private scheduled = false;

  constructor(
    private readonly relay: { readonly leader: boolean; wake(): void },
    private readonly notify: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  committed(): void {
    if (this.relay.leader) {
      this.relay.wake();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      this.notify().catch(this.onError);
    }, this.intervalMs).unref();
  }
}
