import kafkajs, { type Admin } from 'kafkajs';

// kafkajs is CommonJS: Node's ESM loader finds only some of its named exports (not these enums).
const { ConfigResourceTypes, ConfigSource, KafkaJSError } = kafkajs;

/**
 * The one definition of the event topic and its dead-letter topic: partitions, replication and
 * configuration. Every place that creates them uses it: the query service and `npm run rebuild`
 * (`ensureTopics` below), the local stack (`scripts/stack/kafka.ts`), and the Kubernetes Job
 * (`kube/23-kafka-topics.yaml`, whose settings a unit test compares with these).
 *
 * The event topic keeps its events forever (no time or size limit, never compacted). A rebuild
 * reads the event store, not the topic, but the topic is still the only way events reach the views:
 * a consumer group that falls behind, or a new one, must find every event it has not seen yet.
 * Dead letters are kept for 30 days, long enough to be looked at, and the dead-letter topic has as
 * many partitions as the event topic.
 */

/** Kafka's "no limit" for `retention.ms` and `retention.bytes`. */
export const UNLIMITED = '-1';
export const DEAD_LETTER_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** With 3 replicas, an acknowledged write is on 2 and one broker may be down; below 3, every replica. */
export const minInsyncReplicasFor = (replicationFactor: number): number =>
  Math.max(1, Math.min(2, replicationFactor - 1));

export type TopicConfig = Record<string, string>;

export const eventTopicConfig = (replicationFactor: number): TopicConfig => ({
  'cleanup.policy': 'delete',
  'retention.ms': UNLIMITED,
  'retention.bytes': UNLIMITED,
  'min.insync.replicas': String(minInsyncReplicasFor(replicationFactor)),
});

export const deadLetterTopicConfig = (replicationFactor: number): TopicConfig => ({
  'cleanup.policy': 'delete',
  'retention.ms': String(DEAD_LETTER_RETENTION_MS),
  'retention.bytes': UNLIMITED,
  'min.insync.replicas': String(minInsyncReplicasFor(replicationFactor)),
});

export interface TopicOptions {
  topic: string;
  deadLetterTopic: string;
  partitions: number;
  replicationFactor: number;
}

/** The topics a service's configuration names, with the shape it creates them in. */
export const topicOptionsFrom = (config: {
  KAFKA_TOPIC: string;
  KAFKA_DEAD_LETTER_TOPIC: string;
  KAFKA_PARTITIONS: number;
  KAFKA_REPLICATION_FACTOR: number;
}): TopicOptions => ({
  topic: config.KAFKA_TOPIC,
  deadLetterTopic: config.KAFKA_DEAD_LETTER_TOPIC,
  partitions: config.KAFKA_PARTITIONS,
  replicationFactor: config.KAFKA_REPLICATION_FACTOR,
});

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  config: TopicConfig;
}

/** The event topic, then its dead-letter topic, as they must be. */
export const topicSpecs = (options: TopicOptions): [TopicSpec, TopicSpec] => [
  {
    topic: options.topic,
    partitions: options.partitions,
    replicationFactor: options.replicationFactor,
    config: eventTopicConfig(options.replicationFactor),
  },
  {
    topic: options.deadLetterTopic,
    partitions: options.partitions,
    replicationFactor: options.replicationFactor,
    config: deadLetterTopicConfig(options.replicationFactor),
  },
];

/** `name=value,name=value`, the form `kafka-configs.sh --add-config` takes (and the Job's variables hold). */
export const formatTopicConfig = (config: TopicConfig): string =>
  Object.entries(config)
    .map(([name, value]) => `${name}=${value}`)
    .join(',');

export function parseTopicConfig(text: string): TopicConfig {
  const config: TopicConfig = {};
  for (const entry of text.split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const at = trimmed.indexOf('=');
    if (at <= 0) throw new Error(`not name=value: ${trimmed}`);
    config[trimmed.slice(0, at)] = trimmed.slice(at + 1);
  }
  return config;
}

/** A topic configuration entry as DescribeConfigs reports it. */
export interface DescribedEntry {
  name: string;
  value: string | null;
  /** Set on the topic itself (as opposed to a broker or built-in default). */
  topicLevel: boolean;
}

export interface ConfigDrift {
  /** Wanted entries whose current value differs: name -> [current, wanted]. */
  changes: Record<string, [string | null, string]>;
  /**
   * What to send to AlterConfigs when there are changes. That request replaces the whole set of the
   * topic's own entries, so it carries those already set on the topic too, with the wanted values.
   */
  entries: { name: string; value: string }[];
}

/** How a topic's configuration differs from the definition; no changes when it matches. */
export function configDrift(current: DescribedEntry[], wanted: TopicConfig): ConfigDrift {
  const byName = new Map(current.map((entry) => [entry.name, entry]));
  const changes: ConfigDrift['changes'] = {};
  for (const [name, value] of Object.entries(wanted)) {
    const found = byName.get(name)?.value ?? null;
    if (found !== value) changes[name] = [found, value];
  }
  const entries = new Map<string, string>();
  for (const entry of current) if (entry.topicLevel && entry.value !== null) entries.set(entry.name, entry.value);
  for (const [name, value] of Object.entries(wanted)) entries.set(name, value);
  return { changes, entries: [...entries].map(([name, value]) => ({ name, value })) };
}

/** Where `ensureTopics` reports what it found and did; a pino logger fits. */
export interface TopicLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

async function describeTopicConfigs(admin: Admin, topics: string[]): Promise<Map<string, DescribedEntry[]>> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
  });
  return new Map(
    described.resources.map((resource) => [
      resource.resourceName,
      resource.configEntries.map((entry) => ({
        name: entry.configName,
        value: entry.configValue,
        topicLevel: entry.configSource === ConfigSource.TOPIC_CONFIG,
      })),
    ]),
  );
}

/**
 * Creates the event topic and the dead-letter topic when they do not exist yet (whichever service
 * starts first), as `topicSpecs` defines them. A topic that exists with another configuration
 * (created by hand, by an older version, or with the broker's 7-day default retention) has its
 * configuration altered to the definition; if that fails (no permission, an old broker), a warning
 * says what differs and the service carries on. Partition counts and replication factors are never
 * changed on an existing topic (more partitions would move products to other partitions): a
 * difference is a warning. Returns the event topic's partition count as the cluster has it.
 */
export async function ensureTopics(admin: Admin, options: TopicOptions, log: TopicLog): Promise<number> {
  const specs = topicSpecs(options);
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.topic));
  if (missing.length > 0) {
    // kafkajs waits for the new topics' leaders by reading metadata and retries only
    // LEADER_NOT_AVAILABLE; a broker whose metadata lags answers UNKNOWN_TOPIC_OR_PARTITION for a
    // topic created a moment ago (it failed a CI run's set-up right after `npm test` recreated its
    // topic). Retried, a call creates only what is still missing.
    await retryingRetriable(async (attempt) => {
      const known = attempt === 1 ? existing : new Set(await admin.listTopics());
      const pending = missing.filter((spec) => !known.has(spec.topic));
      if (pending.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: pending.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor,
          configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
        })),
      });
    });
    log.info({ topics: missing.map((spec) => spec.topic) }, 'topics created');
  }
  const present = specs.filter((spec) => existing.has(spec.topic));
  if (present.length > 0) await reconcile(admin, present, log);
  const { topics } = await settledMetadata(
    admin,
    specs.map((spec) => spec.topic),
  );
  for (const spec of specs) {
    const found = topics.find((t) => t.name === spec.topic);
    const partitions = found?.partitions.length ?? spec.partitions;
    const replicas = found?.partitions[0]?.replicas.length ?? spec.replicationFactor;
    if (partitions !== spec.partitions || replicas !== spec.replicationFactor) {
      log.warn(
        {
          topic: spec.topic,
          partitions,
          replicas,
          wanted: { partitions: spec.partitions, replicas: spec.replicationFactor },
        },
        'topic exists with another partition count or replication factor; left as it is',
      );
    }
  }
  const eventTopic = topics.find((t) => t.name === options.topic);
  return eventTopic?.partitions.length ?? options.partitions;
}

const RETRIABLE_ATTEMPTS = 10;

/** Runs `operation` again, with a growing pause (about 10 s in all), while it fails with a retriable Kafka error. */
async function retryingRetriable<T>(operation: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= RETRIABLE_ATTEMPTS || !(error instanceof KafkaJSError && error.retriable)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/**
 * The topics' metadata once every broker knows them. A topic created (or deleted and created again)
 * a moment ago is already led, but a broker whose metadata has not caught up answers
 * UNKNOWN_TOPIC_OR_PARTITION, which kafkajs marks retriable and passes on (it failed a CI run's set-up
 * right after `npm test` recreated its topic): retried with a growing pause, about 10 s in all.
 */
export async function settledMetadata(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topics: string[],
): Promise<Awaited<ReturnType<Admin['fetchTopicMetadata']>>> {
  return retryingRetriable(() => admin.fetchTopicMetadata({ topics }));
}

async function reconcile(admin: Admin, specs: TopicSpec[], log: TopicLog): Promise<void> {
  let described: Map<string, DescribedEntry[]>;
  try {
    described = await describeTopicConfigs(
      admin,
      specs.map((spec) => spec.topic),
    );
  } catch (error) {
    log.warn({ err: error }, 'cannot read the topics configuration; not checked against the definition');
    return;
  }
  for (const spec of specs) {
    const drift = configDrift(described.get(spec.topic) ?? [], spec.config);
    if (Object.keys(drift.changes).length === 0) continue;
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: spec.topic, configEntries: drift.entries }],
      });
      log.warn({ topic: spec.topic, changes: drift.changes }, 'topic configuration altered to the definition');
    } catch (error) {
      log.warn(
        { err: error, topic: spec.topic, changes: drift.changes },
        'topic configuration differs from the definition and could not be altered',
      );
    }
  }
}
