import type { ProducerRecord } from 'kafkajs';
import type { Logger } from '../../infra/logger.ts';
import type { Counter } from '../../infra/metrics.ts';
import { type DeadLetter, redriveMessage } from './dead-letter.ts';

/** What a re-drive needs of the dead-letter topic's reader (DeadLetterTail). */
export interface HeldDeadLetters {
  ensureStarted(): void;
  readonly ready: boolean;
  readonly perPartition: number;
  find(partition: number, offset: number): DeadLetter | undefined;
  /** Newest first. */
  letters(): DeadLetter[];
  markRedriven(letter: DeadLetter, at: Date): void;
}

export interface RedriveOutcome {
  partition: number;
  offset: number;
  reason: string;
  key: string | null;
  aggregateId: string | null;
  version: number | null;
}

/** The dead-letter topic has not been read yet (the tail starts on first use). */
export class DeadLettersNotReadError extends Error {
  constructor() {
    super('the dead-letter topic is still being read');
    this.name = 'DeadLettersNotReadError';
  }
}

export class DeadLetterNotFoundError extends Error {
  constructor(partition: number, offset: number, perPartition: number) {
    super(
      `no dead letter at partition ${partition}, offset ${offset} among the latest ${perPartition} of its partition`,
    );
    this.name = 'DeadLetterNotFoundError';
  }
}

/**
 * Several dead letters of one event (the same record dead-lettered again after an earlier re-drive,
 * or by a rebuild's catch-up as well as the live projection) are published once.
 */
export function distinctRecords(letters: readonly DeadLetter[]): DeadLetter[] {
  const seen = new Set<string>();
  return letters.filter((letter) => {
    const identity = `${letter.message.key?.toString('base64') ?? ''}:${letter.message.value?.toString('base64') ?? ''}`;
    if (seen.has(identity)) return false;
    seen.add(identity);
    return true;
  });
}

/**
 * Re-drives dead letters: publishes them back to the event topic (see `redriveMessage`), where the
 * product's partition actor applies them through the same version guard as every other event. That
 * keeps one writer per product document (the actor; FerretDB has no locks or transactions) and the
 * stats shard's offset guard intact, and keeps per-product order: an event whose predecessors are
 * applied is applied, one already applied is a duplicate that changes nothing, one ahead of a
 * missing version is parked, and later versions parked behind it are released once it applies.
 */
export class Redriver {
  constructor(
    private readonly deps: {
      /** Sends with acks=all, retrying the whole record (`sendWhole`). */
      publish: (record: ProducerRecord) => Promise<void>;
      topic: string;
      tail: HeldDeadLetters;
      redrives: Counter<'reason'>;
      logger: Logger;
    },
  ) {}

  async one(partition: number, offset: number, logger: Logger = this.deps.logger): Promise<RedriveOutcome[]> {
    const { tail } = this.deps;
    this.requireRead();
    const letter = tail.find(partition, offset);
    if (!letter) throw new DeadLetterNotFoundError(partition, offset, tail.perPartition);
    return this.publish([letter], logger);
  }

  /** Every dead letter held with this reason, oldest first, each distinct record once. */
  async byReason(reason: string, logger: Logger = this.deps.logger): Promise<RedriveOutcome[]> {
    this.requireRead();
    const matching = this.deps.tail
      .letters()
      .filter((letter) => letter.view.reason === reason)
      .reverse();
    return this.publish(distinctRecords(matching), logger);
  }

  private requireRead(): void {
    this.deps.tail.ensureStarted();
    if (!this.deps.tail.ready) throw new DeadLettersNotReadError();
  }

  private async publish(letters: DeadLetter[], logger: Logger): Promise<RedriveOutcome[]> {
    if (letters.length === 0) return [];
    const at = new Date();
    await this.deps.publish({ topic: this.deps.topic, messages: letters.map((letter) => redriveMessage(letter, at)) });
    return letters.map((letter) => {
      const { partition, offset, reason, key, aggregateId, version, sourcePartition, sourceOffset } = letter.view;
      this.deps.tail.markRedriven(letter, at);
      this.deps.redrives.inc({ reason });
      logger.info(
        { dlqPartition: partition, dlqOffset: offset, reason, sourcePartition, sourceOffset, aggregateId, version },
        'dead letter re-driven to the event topic',
      );
      return { partition, offset, reason, key, aggregateId, version };
    });
  }
}
