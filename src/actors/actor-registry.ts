import { type ActorContext, ProductActor } from './product-actor.ts';

/**
 * The live actors of one worker. Memory stays bounded: past `maxLive` the least recently used idle
 * actors are passivated, and a sweep passivates actors idle for `idleMs`. A passivated actor is
 * just forgotten; its state is rebuilt from the event store when its product is used again.
 */
export class ActorRegistry {
  private readonly actors = new Map<string, ProductActor>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly ctx: Omit<ActorContext, 'liveActors'>,
    private readonly maxLive: number,
    private readonly idleMs: number,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(idleMs, 10_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.actors.size;
  }

  get(productId: string): ProductActor {
    let actor = this.actors.get(productId);
    if (actor) {
      // Map keeps insertion order: re-inserting makes it the most recently used.
      this.actors.delete(productId);
    } else {
      actor = new ProductActor(productId, { ...this.ctx, liveActors: () => this.actors.size });
    }
    this.actors.set(productId, actor);
    if (this.actors.size > this.maxLive) this.evict();
    return actor;
  }

  private evict(): void {
    for (const [id, actor] of this.actors) {
      if (this.actors.size <= this.maxLive) return;
      if (actor.idle) this.actors.delete(id);
    }
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const [id, actor] of this.actors) if (actor.idle && actor.lastActive < cutoff) this.actors.delete(id);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
