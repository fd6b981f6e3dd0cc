import { Kafka, type KafkaConfig, logLevel, Partitioners } from 'kafkajs';
import type { Logger } from './logger.ts';

export { Partitioners };

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

/** Kafka record headers of an event, as DESIGN.md section 2 lists them. */
export const EVENT_HEADERS = {
  eventType: 'event-type',
  aggregateVersion: 'aggregate-version',
  schemaVersion: 'schema-version',
  contentType: 'content-type',
  traceparent: 'traceparent',
} as const;
