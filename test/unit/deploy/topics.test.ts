import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { cloneManifests, loadManifests, type Manifest, named, repoRoot } from './lib/manifests.ts';
import { topicJobViolations } from './lib/topics.ts';

const original = loadManifests().manifests;

function withJob(change: (job: IJob, manifests: Manifest[]) => void): Manifest[] {
  const manifests = cloneManifests(original);
  const job = named(manifests, 'Job', 'kafka-topics')?.object as unknown as IJob;
  change(job, manifests);
  return manifests;
}

const container = (job: IJob) => {
  const found = job.spec?.template.spec?.containers[0];
  assert.ok(found);
  return found;
};

const setEnv = (job: IJob, name: string, value: string) => {
  const entry = container(job).env?.find((e) => e.name === name);
  assert.ok(entry, name);
  entry.value = value;
};

const editScript = (job: IJob, edit: (script: string) => string) => {
  const c = container(job);
  c.command = (c.command ?? []).map(edit);
};

const reports = (violations: string[], part: string) =>
  assert.ok(
    violations.some((v) => v.includes(part)),
    `expected a violation containing "${part}", got:\n${violations.join('\n')}`,
  );

describe('the kafka-topics Job (kube/23-kafka-topics.yaml) against src/projections/topics.ts', () => {
  test('creates and configures both topics exactly as the definition says', () => {
    assert.deepEqual(topicJobViolations(original), []);
  });

  test('a time limit on the event topic is reported', () => {
    const manifests = withJob((job) =>
      setEnv(
        job,
        'EVENT_TOPIC_CONFIG',
        'cleanup.policy=delete,retention.ms=604800000,retention.bytes=-1,min.insync.replicas=2',
      ),
    );
    reports(
      topicJobViolations(manifests),
      'EVENT_TOPIC_CONFIG is {"cleanup.policy":"delete","min.insync.replicas":"2","retention.bytes":"-1","retention.ms":"604800000"}',
    );
  });

  test('a missing setting, min ISR 1, or a dead-letter configuration that differs is reported', () => {
    reports(
      topicJobViolations(withJob((job) => setEnv(job, 'EVENT_TOPIC_CONFIG', 'retention.ms=-1,min.insync.replicas=2'))),
      'EVENT_TOPIC_CONFIG is',
    );
    reports(
      topicJobViolations(
        withJob((job) =>
          setEnv(
            job,
            'DEAD_LETTER_TOPIC_CONFIG',
            'cleanup.policy=delete,retention.ms=2592000000,retention.bytes=-1,min.insync.replicas=1',
          ),
        ),
      ),
      'DEAD_LETTER_TOPIC_CONFIG is',
    );
  });

  test('the definition follows the replication factor of catalog-shared', () => {
    const manifests = withJob((_, all) => {
      const shared = named(all, 'ConfigMap', 'catalog-shared')?.object as unknown as IConfigMap;
      shared.data = { ...shared.data, KAFKA_REPLICATION_FACTOR: '1' };
    });
    reports(topicJobViolations(manifests), 'the definition is {"cleanup.policy":"delete","min.insync.replicas":"1"');
  });

  test('a dead-letter topic with its own partition count, or topics created without configuration, are reported', () => {
    reports(
      topicJobViolations(
        withJob((job) => editScript(job, (s) => s.replace('--partitions "$PARTITIONS"', '--partitions 3'))),
      ),
      'created with --partitions "$PARTITIONS"',
    );
    reports(
      topicJobViolations(withJob((job) => editScript(job, (s) => s.replace(' $(configs "$2")', '')))),
      'created with their configuration',
    );
    reports(
      topicJobViolations(
        withJob((job) =>
          editScript(job, (s) =>
            s.replace(
              'create "$DEAD_LETTER_TOPIC" "$DEAD_LETTER_TOPIC_CONFIG"',
              'create "$DEAD_LETTER_TOPIC" "retention.ms=1"',
            ),
          ),
        ),
      ),
      '$DEAD_LETTER_TOPIC must be created with $DEAD_LETTER_TOPIC_CONFIG',
    );
  });

  test('an existing topic left with its old configuration is reported', () => {
    reports(
      topicJobViolations(
        withJob((job) =>
          editScript(job, (s) => s.replace(/until \/opt\/kafka\/bin\/kafka-configs\.sh[\s\S]*?done\n/, '')),
        ),
      ),
      'configured too',
    );
  });
});

/** Files that create Kafka topics themselves instead of through `ensureTopics`. */
function topicCreators(files: { path: string; text: string }[]): string[] {
  return files.filter(({ text }) => /\.createTopics\(/.test(text)).map(({ path }) => path);
}

describe('one definition of the topics, used wherever the catalog creates them', () => {
  const code = ['src', 'scripts', 'bench', 'chaos'].flatMap((dir) =>
    readdirSync(join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => {
        const path = join(repoRoot, dir, file);
        return { path: relative(repoRoot, path), text: readFileSync(path, 'utf8') };
      }),
  );

  test('only src/projections/topics.ts creates topics (the services, npm run up, npm test, rebuilds)', () => {
    assert.deepEqual(topicCreators(code), ['src/projections/topics.ts']);
  });

  test('a script creating its dead-letter topic with a partition count of its own is reported', () => {
    const script = {
      path: 'scripts/test.ts',
      text: "await admin.createTopics({ topics: [{ topic: 'catalog-test-events.dlq', numPartitions: 3 }] });",
    };
    assert.deepEqual(topicCreators([...code, script]), ['src/projections/topics.ts', 'scripts/test.ts']);
  });
});
