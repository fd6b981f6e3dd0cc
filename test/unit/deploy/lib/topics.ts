import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import {
  deadLetterTopicConfig,
  eventTopicConfig,
  parseTopicConfig,
  type TopicConfig,
} from '../../../../src/projections/topics.ts';
import { type Manifest, named, where } from './manifests.ts';

const canonical = (config: TopicConfig): string =>
  JSON.stringify(Object.fromEntries(Object.entries(config).sort(([a], [b]) => a.localeCompare(b))));

/**
 * The kafka-topics Job creates and configures the two topics exactly as src/projections/topics.ts
 * defines them, for the replication factor of the `catalog-shared` ConfigMap: the configuration in
 * its variables equals the definition, both topics are created with the partition count of the
 * ConfigMap (the dead-letter topic as many as the event topic), and each is configured with its own
 * variable, also when it exists already.
 */
export function topicJobViolations(manifests: readonly Manifest[], jobName = 'kafka-topics'): string[] {
  const manifest = named(manifests, 'Job', jobName);
  if (!manifest) return [`kube/: no Job ${jobName}`];
  const at = where(manifest);
  const violations: string[] = [];
  const shared = named(manifests, 'ConfigMap', 'catalog-shared')?.object as IConfigMap | undefined;
  const replicationFactor = Number(shared?.data?.KAFKA_REPLICATION_FACTOR);
  if (!Number.isInteger(replicationFactor)) return [`${at}: catalog-shared has no KAFKA_REPLICATION_FACTOR`];

  const [container] = (manifest.object as unknown as IJob).spec?.template.spec?.containers ?? [];
  if (!container) return [`${at}: no container`];
  const env = new Map((container.env ?? []).map((e: IEnvVar) => [e.name, e]));
  const wanted: [string, TopicConfig][] = [
    ['EVENT_TOPIC_CONFIG', eventTopicConfig(replicationFactor)],
    ['DEAD_LETTER_TOPIC_CONFIG', deadLetterTopicConfig(replicationFactor)],
  ];
  for (const [name, config] of wanted) {
    const value = env.get(name)?.value;
    if (value === undefined) {
      violations.push(`${at}: ${name} is not set`);
      continue;
    }
    let found: TopicConfig;
    try {
      found = parseTopicConfig(value);
    } catch (error) {
      violations.push(`${at}: ${name}: ${(error as Error).message}`);
      continue;
    }
    if (canonical(found) !== canonical(config)) {
      violations.push(`${at}: ${name} is ${canonical(found)}, the definition is ${canonical(config)}`);
    }
  }
  const refs: [string, string, string][] = [
    ['PARTITIONS', 'catalog-shared', 'KAFKA_PARTITIONS'],
    ['REPLICATION_FACTOR', 'catalog-shared', 'KAFKA_REPLICATION_FACTOR'],
    ['TOPIC', 'catalog-shared', 'KAFKA_TOPIC'],
    ['DEAD_LETTER_TOPIC', 'query-config', 'KAFKA_DEAD_LETTER_TOPIC'],
  ];
  for (const [name, configMap, key] of refs) {
    const ref = env.get(name)?.valueFrom?.configMapKeyRef;
    if (ref?.name !== configMap || ref.key !== key)
      violations.push(`${at}: ${name} must come from ${configMap}/${key}`);
  }

  const script = (container.command ?? []).join('\n');
  const create = /kafka-topics\.sh[^\n]*--create[\s\S]*?(?=\bdone\b)/.exec(script)?.[0] ?? '';
  if (!/--partitions "\$PARTITIONS"/.test(create) || !/--replication-factor "\$REPLICATION_FACTOR"/.test(create)) {
    violations.push(
      `${at}: topics must be created with --partitions "$PARTITIONS" --replication-factor "$REPLICATION_FACTOR"`,
    );
  }
  if (!/\$\(configs "\$2"\)/.test(create)) violations.push(`${at}: topics must be created with their configuration`);
  if (!/kafka-configs\.sh[\s\S]*--alter[\s\S]*--entity-name "\$1" --add-config "\$2"/.test(script)) {
    violations.push(
      `${at}: a topic that exists already must be configured too (kafka-configs.sh --alter --add-config)`,
    );
  }
  for (const [topic, variable] of [
    ['TOPIC', 'EVENT_TOPIC_CONFIG'],
    ['DEAD_LETTER_TOPIC', 'DEAD_LETTER_TOPIC_CONFIG'],
  ]) {
    if (!new RegExp(`^\\s*create "\\$${topic}" "\\$${variable}"\\s*$`, 'm').test(script)) {
      violations.push(`${at}: $${topic} must be created with $${variable}`);
    }
  }
  return violations;
}
