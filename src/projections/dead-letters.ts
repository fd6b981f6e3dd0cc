import type { IHeaders, Producer } from 'kafkajs';
import { sendWhole } from '../infra/kafka.ts';
import type { PoisonRecord } from './chunk-plan.ts';

/** Headers a dead letter carries besides the original record's own. */
export const DEAD_LETTER_HEADERS = {
  reason: 'dlq-reason',
  detail: 'dlq-detail',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  consumerGroup: 'dlq-consumer-group',
  failedAt: 'dlq-failed-at',
} as const;

/**
 * Sends poison records, byte for byte, to the dead-letter topic with why and where from, with acks=all
 * (`sendWhole`): the partition's offset is committed only after the brokers have them.
 */
export class DeadLetterSink {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async send(sourceTopic: string, partition: number, groupId: string, records: PoisonRecord[]): Promise<void> {
    if (records.length === 0) return;
    const failedAt = new Date().toISOString();
    await sendWhole(this.producer, {
      topic: this.topic,
      messages: records.map(({ message, reason, detail, offset }) => ({
        key: message.key,
        value: message.value,
        headers: {
          ...(message.headers as IHeaders),
          [DEAD_LETTER_HEADERS.reason]: reason,
          [DEAD_LETTER_HEADERS.detail]: detail.slice(0, 1000),
          [DEAD_LETTER_HEADERS.sourceTopic]: sourceTopic,
          [DEAD_LETTER_HEADERS.sourcePartition]: String(partition),
          [DEAD_LETTER_HEADERS.sourceOffset]: String(offset),
          [DEAD_LETTER_HEADERS.consumerGroup]: groupId,
          [DEAD_LETTER_HEADERS.failedAt]: failedAt,
        },
      })),
    });
  }
}
