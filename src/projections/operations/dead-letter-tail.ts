import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../../infra/logger.ts';
import { type DeadLetter, type DeadLetterView, readDeadLetter } from './dead-letter.ts';

export interface DeadLetterTailOptions {
  topic: string;
  /** Latest records kept per partition of the dead-letter topic. */
  perPartition: number;
  /** Prefix of the reader's consumer group; each process reads under a group of its own. */
  groupPrefix: string;
}

/**
 * The latest `perPartition` records of each partition of the dead-letter topic, kept in memory and
 * followed as new ones arrive. A consumer of its own group (one per process, so it is assigned every
 * partition) that never commits: on each assignment it seeks every partition back `perPartition`
 * records from its end, so memory stays bounded however long the topic is. Started on first use
 * (an open console or an admin request), then kept running until the service stops.
 */
export class DeadLetterTail {
  private readonly byPartition = new Map<number, Map<number, DeadLetter>>();
  private consumer: Consumer | undefined;
  private starting: Promise<void> | undefined;
  private seeked = false;
  /** Grows with every change, so a reader can tell whether the letters changed since it last looked. */
  version = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly options: DeadLetterTailOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts reading in the background, once. */
  ensureStarted(): void {
    this.starting ??= this.start().catch((error: unknown) => {
      this.logger.warn({ err: error, topic: this.options.topic }, 'cannot read the dead-letter topic; retrying');
      this.starting = undefined;
      const consumer = this.consumer;
      this.consumer = undefined;
      return consumer?.disconnect().catch(() => {});
    });
  }

  /** Whether the latest records have been asked for since the last assignment. */
  get ready(): boolean {
    return this.seeked;
  }

  get perPartition(): number {
    return this.options.perPartition;
  }

  /** Every dead letter held, the newest first. */
  letters(): DeadLetter[] {
    const all: DeadLetter[] = [];
    for (const records of this.byPartition.values()) all.push(...records.values());
    return all.sort(
      (a, b) => (b.view.failedAt ?? '').localeCompare(a.view.failedAt ?? '') || b.view.offset - a.view.offset,
    );
  }

  find(partition: number, offset: number): DeadLetter | undefined {
    return this.byPartition.get(partition)?.get(offset);
  }

  markRedriven(letter: DeadLetter, at: Date): void {
    letter.view.redrivenAt = at.toISOString();
    this.version += 1;
  }

  views(): DeadLetterView[] {
    return this.letters().map((letter) => letter.view);
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
  }

  private async start(): Promise<void> {
    const { topic } = this.options;
    const consumer = this.kafka.consumer({ groupId: `${this.options.groupPrefix}.${randomUUID()}` });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      // kafkajs gave up on this consumer: the next use starts another.
      this.logger.warn({ err: payload.error, topic }, 'the dead-letter reader stopped; it restarts on next use');
      this.seeked = false;
      this.starting = undefined;
      if (this.consumer === consumer) this.consumer = undefined;
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.seeked = false;
      const assigned = payload.memberAssignment[topic] ?? [];
      this.seekToLatest(consumer, assigned).catch((error: unknown) =>
        this.logger.warn({ err: error, topic }, 'cannot find the end of the dead-letter topic'),
      );
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => this.keep(partition, readDeadLetter(partition, message)),
    });
  }

  private async seekToLatest(consumer: Consumer, assigned: number[]): Promise<void> {
    const { topic, perPartition } = this.options;
    const offsets = await this.admin.fetchTopicOffsets(topic);
    for (const { partition, high, low } of offsets) {
      if (!assigned.includes(partition)) continue;
      const from = Math.max(Number(low), Number(high) - perPartition);
      consumer.seek({ topic, partition, offset: String(from) });
    }
    this.seeked = true;
    this.version += 1;
  }

  private keep(partition: number, letter: DeadLetter): void {
    const records = this.byPartition.get(partition) ?? new Map<number, DeadLetter>();
    this.byPartition.set(partition, records);
    const known = records.get(letter.view.offset);
    if (known) letter.view.redrivenAt = known.view.redrivenAt;
    records.set(letter.view.offset, letter);
    while (records.size > this.options.perPartition) records.delete(Math.min(...records.keys()));
    this.version += 1;
  }
}
