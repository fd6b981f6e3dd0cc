import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import type { Logger } from '../infra/logger.ts';
import { MembershipLease } from './membership-lease.ts';
import { type ActorDeps, type ActorOptions, type ActorProgress, PartitionActor } from './partition-actor.ts';
import {
  clearCatalogIndex,
  type MemoryCatalog,
  newCatalogIndex,
  type PartitionCatalog,
} from './views/products/memory-list.ts';
import type { ProductDoc } from './views/products/view.ts';

export interface RuntimeOptions extends Omit<ActorOptions, 'groupId'> {
  groupId: string;
  sessionTimeoutMs: number;
  /** kafkajs fetch size per partition; its default (1 MiB) when undefined. */
  maxBytesPerPartition: number | undefined;
}

/**
 * The member's consumer settings. kafkajs heartbeats between fetches, and an idle fetch waits
 * `maxWaitTimeInMs` (5 s by default) for records: an idle member heartbeated every 5 s, while its
 * lease lasts 90 % of the session (5.4 s at the tests' 6 s), so the lease lapsed on quiet
 * partitions and reads that memory should answer went to MongoDB. The wait is kept to a fifth of
 * the session, so a quiet member still heartbeats well inside its lease.
 */
export function consumerConfig(
  options: Pick<RuntimeOptions, 'groupId' | 'sessionTimeoutMs' | 'maxBytesPerPartition'>,
): ConsumerConfig {
  return {
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
    maxWaitTimeInMs: Math.min(5000, Math.floor(options.sessionTimeoutMs / 5)),
    // Rebalances wait for every batch in flight; a chunk on a slow MongoDB can take a while.
    rebalanceTimeout: 60_000,
    ...(options.maxBytesPerPartition ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
  };
}

/**
 * A consumer-group member that hosts one `PartitionActor` per assigned partition. Between two
 * assignments another member may have owned a partition and written its documents, so a copy held
 * from before is trusted only once the partition's shard shows nobody did (see
 * `PartitionActor.keepAcrossRebalance`); otherwise the actor loads its state from MongoDB. kafkajs
 * finishes every batch in flight before it rejoins, so an actor is never stopped half way through a
 * chunk. Offsets are committed by the actors, after their writes (autoCommit is off).
 */
export class ProjectionRuntime {
  private readonly actors = new Map<number, PartitionActor>();
  /** New actors start once the ones they replace have stopped, so a document never has two writers. */
  private previousStopped: Promise<void> = Promise.resolve();
  private readonly consumer: Consumer;
  private readonly log: Logger;
  private readonly deps: ActorDeps;
  private joinedOnce = false;
  /**
   * Whether the actors' documents may be served to readers: not between the start of a rebalance and
   * the next assignment, when another member may already own (and write) one of these partitions.
   */
  private serving = false;
  /** And not once the session may have expired unnoticed (see `MembershipLease`). */
  private readonly lease: MembershipLease;

  constructor(
    kafka: Kafka,
    private readonly options: RuntimeOptions,
    deps: Omit<ActorDeps, 'index'>,
    onFatal: (error: Error) => void,
  ) {
    // One list index for all of this member's actors: a page walks it instead of one per partition.
    this.deps = { ...deps, index: newCatalogIndex() };
    this.log = deps.logger.child({ component: 'projection-runtime', groupId: options.groupId });
    this.lease = new MembershipLease(options.sessionTimeoutMs);
    this.consumer = kafka.consumer(consumerConfig(options));
    const { GROUP_JOIN, CRASH, REBALANCING, HEARTBEAT, REQUEST } = this.consumer.events;
    this.consumer.on(REBALANCING, () => {
      this.serving = false;
      this.lease.revoke();
    });
    // A heartbeat vouches for the session as of when it was sent: its answer may be read late (a
    // process frozen with the answer in its socket buffer).
    let heartbeatSentAt: number | undefined;
    this.consumer.on(REQUEST, ({ payload }) => {
      if (payload.apiName === 'Heartbeat') heartbeatSentAt = payload.sentAt;
    });
    this.consumer.on(HEARTBEAT, () => {
      if (heartbeatSentAt !== undefined) this.lease.confirm(heartbeatSentAt);
    });
    this.consumer.on(GROUP_JOIN, ({ payload }) => {
      this.joinedOnce = true;
      const assigned = payload.memberAssignment[options.topic] ?? [];
      this.log.info({ partitions: assigned }, 'partitions assigned');
      this.replaceActors(assigned);
      this.serving = true;
      this.lease.confirm();
    });
    this.consumer.on(CRASH, ({ payload }) => {
      this.serving = false;
      this.lease.revoke();
      if (payload.restart) {
        // A broker's death can crash the consumer (retries exhausted finding the new coordinator):
        // the actors keep their state for the assignment after the restart (see `replaceActors`).
        for (const actor of this.actors.values()) actor.suspend();
        this.log.warn({ err: payload.error }, 'consumer crashed; kafkajs restarts it');
        return;
      }
      this.replaceActors([]);
      onFatal(payload.error);
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 64,
      eachBatch: (payload) => this.actorFor(payload.batch.partition).handle(payload),
    });
  }

  /** Leaves the group (kafkajs waits for the batches in flight), then stops the actors. */
  async stop(): Promise<void> {
    this.serving = false;
    await this.consumer.disconnect();
    this.replaceActors([]);
    await this.previousStopped;
  }

  get joined(): boolean {
    return this.joinedOnce;
  }

  progress(): ActorProgress[] {
    return [...this.actors.values()].map((actor) => actor.progress()).sort((a, b) => a.partition - b.partition);
  }

  /** The product as the actor of its partition holds it, if this member has that actor (see `PartitionActor.cached`). */
  cachedProduct(id: string, partition: number): ProductDoc | null | undefined {
    if (!this.mayServe()) return undefined;
    return this.actors.get(partition)?.cached(id);
  }

  /** The list index and every assigned partition in it, or undefined when one of them is not (see `PartitionActor.catalog`). */
  catalog(): MemoryCatalog | undefined {
    if (!this.mayServe()) return undefined;
    const partitions: PartitionCatalog[] = [];
    for (const actor of this.actors.values()) {
      const catalog = actor.catalog();
      if (!catalog) return undefined;
      partitions.push(catalog);
    }
    return { partitions, index: this.deps.index };
  }

  private mayServe(): boolean {
    return this.serving && this.lease.valid;
  }

  private actorFor(partition: number): PartitionActor {
    let actor = this.actors.get(partition);
    if (!actor) {
      actor = new PartitionActor(partition, this.options, this.deps, this.previousStopped);
      this.actors.set(partition, actor);
    }
    return actor;
  }

  /**
   * Actors of partitions assigned again keep their state (see `PartitionActor.keepAcrossRebalance`);
   * the others stop, and new actors start once they have. When none is kept, the list index is
   * emptied at once: each actor releasing its documents one by one held the event loop for about
   * 1.4 s at 140,000 products (a shutdown took 4.4 s, now 3.0 s).
   */
  private replaceActors(assigned: number[]): void {
    const leaving: PartitionActor[] = [];
    for (const [partition, actor] of this.actors) {
      if (assigned.includes(partition) && actor.keepAcrossRebalance()) continue;
      leaving.push(actor);
      this.actors.delete(partition);
    }
    const clearIndex = this.actors.size === 0;
    this.previousStopped = Promise.all(
      leaving.map((actor) =>
        actor
          .stop({ leaveIndex: clearIndex })
          .catch((error: unknown) =>
            this.log.error({ err: error, partition: actor.partition }, 'stopping an actor failed'),
          ),
      ),
    ).then(() => {
      if (clearIndex) clearCatalogIndex(this.deps.index);
    });
    for (const partition of assigned) this.actorFor(partition);
  }
}
