import type { Admin, Kafka, Producer } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import { createProducer } from '../../../../src/infra/kafka.ts';
import type { ProductEnvelope } from '../../../../src/projections/record.ts';
import { kafkaClient, mongoClient, uniqueName } from '../../../support/env.ts';
import { createTopics, publish, removeFromKafka } from './events.ts';

/**
 * What each query integration test owns and removes again: a topic of its own (with its
 * dead-letter topic), a views database, a consumer group named after the topic, and the clients to
 * reach them. `open` in `before`, `close` in `after`.
 */
export class QueryBed {
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly group: string;
  readonly database: string;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly mongo: MongoClient;
  private connectedProducer: Producer | undefined;

  constructor(
    name: string,
    readonly partitions: number,
  ) {
    this.topic = uniqueName(`q-${name}`);
    this.deadLetterTopic = `${this.topic}.dlq`;
    this.group = this.topic;
    this.database = uniqueName(`q_${name}`).replaceAll('-', '_');
    this.kafka = kafkaClient(`query-${name}-test`);
    this.admin = this.kafka.admin();
    this.mongo = mongoClient();
  }

  /** What `startQueryService` needs to run against this bed. */
  get service() {
    const { topic, deadLetterTopic, group, database, partitions } = this;
    return { topic, deadLetterTopic, group, database, partitions };
  }

  get producer(): Producer {
    if (!this.connectedProducer) throw new Error('the bed is not open');
    return this.connectedProducer;
  }

  async open(): Promise<void> {
    await this.admin.connect();
    await createTopics(this.admin, [
      { topic: this.topic, partitions: this.partitions },
      { topic: this.deadLetterTopic, partitions: 1 },
    ]);
    const producer = createProducer(this.kafka);
    await producer.connect();
    this.connectedProducer = producer;
  }

  publish(events: ProductEnvelope[], batch?: number): Promise<void> {
    return publish(this.producer, this.topic, events, batch);
  }

  /** Removes the topics, the group (and `otherGroups`) and the database. */
  async close(otherGroups: string[] = []): Promise<void> {
    await this.connectedProducer?.disconnect();
    await removeFromKafka(this.admin, [this.topic, this.deadLetterTopic], [this.group, ...otherGroups]);
    await this.admin.disconnect();
    await this.mongo.db(this.database).dropDatabase();
    await this.mongo.close();
  }
}
