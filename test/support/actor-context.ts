import { type GroupCommitOptions, GroupCommitter } from '../../src/actors/group-commit.ts';
import { loadProduct } from '../../src/actors/load-product.ts';
import type { ActorContext } from '../../src/actors/product-actor.ts';
import type { InMemoryEventStore } from '../../src/infra/event-store/in-memory.ts';
import { uuidv7 } from '../../src/infra/ids.ts';

/** Errors of this class stand for a batch the database rolled back as a whole (it may be split). */
export class RolledBack extends Error {}

export const committerOptions = (overrides: Partial<GroupCommitOptions> = {}): GroupCommitOptions => ({
  maxBatch: 500,
  concurrency: 2,
  maxQueued: 10_000,
  rolledBack: (error) => error instanceof RolledBack,
  ...overrides,
});

/** An actor context on the in-memory event store, as the worker builds it on PostgreSQL. */
export function actorContext(
  store: InMemoryEventStore,
  overrides: Partial<ActorContext> = {},
): Omit<ActorContext, 'liveActors'> & { liveActors: () => number } {
  return {
    committer: new GroupCommitter((requests) => store.appendBatch(requests), committerOptions()),
    load: (id) => loadProduct(store, id),
    streamVersion: (id) => store.streamVersion(id),
    now: () => new Date('2026-01-01T00:00:00Z'),
    newEventId: () => uuidv7(),
    maxBatch: 500,
    maxMailbox: 10_000,
    conflictRetries: 3,
    snapshotEvery: 100,
    liveActors: () => 1,
    reportStoreError: () => {},
    ...overrides,
  };
}
