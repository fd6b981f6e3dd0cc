import { Kafka, type KafkaConfig, logLevel, Partitioners, type Producer, type ProducerRecord } from 'kafkajs';
import type { Logger } from './logger.ts';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * The one place a kafkajs client is made. Its log lines go through the service's pino logger.
 * Producers must use `Partitioners.DefaultPartitioner` (Java's murmur2), so that the partition of a
 * product id is the same for every client of the topic.
 */
export function createKafka(
  options: { brokers: string; clientId: string; logger: Logger } & Omit<Partial<KafkaConfig>, 'brokers' | 'clientId'>,
): Kafka {
  const { brokers, clientId, logger, ...rest } = options;
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: brokers.split(',').map((b) => b.trim()),
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: { message, ...extra } }) =>
        log[levels[level] ?? 'info']({ ...extra }, message),
    ...rest,
  });
}

/**
 * The producer every part of the project publishes with: acks=all is given per send, one request in
 * flight per broker (per-partition order), Java's partitioner, and no kafkajs retries (see
 * `sendWhole`). Not kafkajs's idempotent mode: in a CI run it acknowledged a batch that never reached
 * the log (kafkajs calls that mode experimental; tulios/kafkajs#1005 reports the same).
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: false,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 0 },
  });
}

export interface SendWholeOptions {
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
}

/**
 * Sends a record with acks=all and retries by sending the whole record again. kafkajs 2.2.4 retries a
 * send broker by broker and remembers which brokers already answered; when a partition's leadership
 * moves to one of those between attempts, that partition's messages are never sent again and `send`
 * still resolves (tulios/kafkajs#1798). That silently dropped events in CI while a broker stopped.
 * Resending everything costs duplicates, which every consumer drops by aggregate version; a gap
 * would be lost data. Throws the last error once `attempts` sends have failed.
 */
export async function sendWhole(
  producer: Producer,
  record: ProducerRecord,
  options: SendWholeOptions = {},
): Promise<void> {
  const { attempts = 8, initialDelayMs = 100, maxDelayMs = 3000, signal } = options;
  let delay = initialDelayMs;
  for (let attempt = 1; ; attempt += 1) {
    signal?.throwIfAborted();
    try {
      await producer.send({ ...record, acks: -1 });
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, maxDelayMs);
  }
}

/** Kafka record headers of an event, as DESIGN.md section 2 lists them. */
export const EVENT_HEADERS = {
  eventType: 'event-type',
  aggregateVersion: 'aggregate-version',
  schemaVersion: 'schema-version',
  contentType: 'content-type',
  traceparent: 'traceparent',
} as const;

/** A consumer's fetch wait while it only commits: its paused fetch loop sleeps this long before it ends. */
const SET_OFFSETS_FETCH_WAIT_MS = 100;

/**
 * Commits a consumer group's offsets, as kafkajs's `admin.setOffsets` does: a consumer of the group
 * joins, pauses the topic, seeks each partition (a seek commits), and leaves at its first fetch. The
 * admin's consumer keeps kafkajs's default fetch wait, and a paused consumer sleeps that whole wait
 * before its first fetch: 5.2 s of every rebuild. This one waits SET_OFFSETS_FETCH_WAIT_MS. The group
 * must have no members, as for `setOffsets`.
 */
export async function setGroupOffsets(
  kafka: Kafka,
  target: { groupId: string; topic: string; partitions: { partition: number; offset: string }[] },
): Promise<void> {
  const { groupId, topic, partitions } = target;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: SET_OFFSETS_FETCH_WAIT_MS, retry: { retries: 5 } });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const { state } = await consumer.describeGroup();
    if (state !== 'Empty' && state !== 'Dead') {
      throw new Error(`consumer group ${groupId} has running members (state ${state}); its offsets cannot be set`);
    }
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.FETCH, () => resolve());
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => {} }).catch(reject);
      consumer.pause([{ topic }]);
      for (const { partition, offset } of partitions) consumer.seek({ topic, partition, offset });
    });
    await consumer.stop();
  } finally {
    await consumer.disconnect();
  }
}
