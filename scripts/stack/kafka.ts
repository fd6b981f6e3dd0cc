import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { ensureTopics as ensureEventTopics, minInsyncReplicasFor } from '../../src/projections/topics.ts';
import type { Component } from './component.ts';
import { cacheDir, kafkaNodes, kafkaVersion, logFile, ports, repoRoot, stateDir, urls } from './paths.ts';
import { run, runningPid, startDaemon, stopDaemon } from './processes.ts';
import { StackError, say, waitFor } from './progress.ts';
import { ensureJavaInstalled, ensureMavenInstalled } from './system.ts';

/**
 * Apache Kafka in KRaft mode, run from its Maven Central artifacts: `kafkaNodes` combined
 * broker+controller nodes on loopback. With three nodes every replication setting is 3 and
 * min.insync.replicas is 2, as in production; with one node (KAFKA_NODES=1) all are lowered to 1,
 * or consumer groups would never find a coordinator.
 */

const libsDir = join(cacheDir, `kafka-${kafkaVersion}`, 'libs');
const pomFile = join(repoRoot, 'scripts/stack/kafka/pom.xml');
const root = join(stateDir, 'kafka');
const replication = kafkaNodes >= 3 ? 3 : 1;
const eventTopic = process.env.KAFKA_TOPIC ?? 'product-events';
const minIsr = minInsyncReplicasFor(replication);

const brokerPort = (node: number) => ports.kafka + node - 1;
const controllerPort = (node: number) => ports.kafka + 100 + node - 1;
const nodeDir = (node: number) => join(root, `node-${node}`);

const log4j = `
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
`;

function serverProperties(node: number): string {
  const voters = Array.from({ length: kafkaNodes }, (_, i) => `${i + 1}@127.0.0.1:${controllerPort(i + 1)}`).join(',');
  return `process.roles=broker,controller
node.id=${node}
controller.quorum.voters=${voters}
listeners=PLAINTEXT://127.0.0.1:${brokerPort(node)},CONTROLLER://127.0.0.1:${controllerPort(node)}
advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort(node)}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${join(nodeDir(node), 'data')}
num.partitions=12
default.replication.factor=${replication}
min.insync.replicas=${minIsr}
offsets.topic.replication.factor=${replication}
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=${replication}
transaction.state.log.min.isr=${minIsr}
share.coordinator.state.topic.replication.factor=${replication}
share.coordinator.state.topic.min.isr=${minIsr}
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
# The default for topics that set none; the event topics keep their events forever (their own
# retention.ms=-1 and retention.bytes=-1, from src/projections/topics.ts).
log.retention.hours=168
`;
}

/** Kafka's cluster id format: 16 random bytes, base64url without padding, not starting with '-'. */
function clusterId(): string {
  const file = join(root, 'cluster-id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  let id = '-';
  while (id.startsWith('-')) id = randomBytes(16).toString('base64url');
  mkdirSync(root, { recursive: true });
  writeFileSync(file, id);
  return id;
}

function java(mainClass: string, args: string[], heap: string): string[] {
  return [
    `-Xms256m`,
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(root, 'log4j2.properties')}`,
    '-cp',
    `${libsDir}/*`,
    mainClass,
    ...args,
  ];
}

let installed = false;

async function installKafka(): Promise<void> {
  if (installed) return;
  ensureJavaInstalled();
  // The classpath is fetched again when the version or the pom changes (a jar added to it).
  const marker = join(libsDir, '.complete');
  const wanted = `${kafkaVersion} ${createHash('sha256').update(readFileSync(pomFile)).digest('hex')}`;
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== wanted) {
    ensureMavenInstalled();
    say('kafka', `fetching kafka_2.13 ${kafkaVersion} and its classpath from Maven Central`);
    rmSync(libsDir, { recursive: true, force: true });
    mkdirSync(libsDir, { recursive: true });
    run('kafka', 'mvn', [
      '-B',
      '-f',
      pomFile,
      `-Dkafka.version=${kafkaVersion}`,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${libsDir}`,
    ]);
    writeFileSync(marker, wanted);
  }
  installed = true;
}

function prepareNode(node: number): string {
  const dir = nodeDir(node);
  const config = join(dir, 'server.properties');
  const nodesFile = join(root, 'nodes');
  if (existsSync(nodesFile) && readFileSync(nodesFile, 'utf8').trim() !== String(kafkaNodes)) {
    throw new StackError(
      `kafka-${node}`,
      `storage was formatted for ${readFileSync(nodesFile, 'utf8').trim()} node(s), KAFKA_NODES=${kafkaNodes}: run npm run down and remove ${root}`,
    );
  }
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(root, 'log4j2.properties'), log4j);
  writeFileSync(config, serverProperties(node));
  writeFileSync(nodesFile, String(kafkaNodes));
  if (!existsSync(join(dir, 'data', 'meta.properties'))) {
    say(`kafka-${node}`, 'formatting storage');
    run(
      `kafka-${node}`,
      'java',
      java('kafka.tools.StorageTool', ['format', '-t', clusterId(), '-c', config, '--ignore-formatted'], '256m'),
      { quiet: true },
    );
  }
  return config;
}

function admin(brokers: string[]) {
  return new Kafka({
    clientId: 'stack-check',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 2000,
  }).admin();
}

/** An admin client of the whole cluster, connected. */
async function clusterAdmin(clientId: string): Promise<Admin> {
  const client = new Kafka({ clientId, brokers: urls.brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await client.connect();
  return client;
}

/** True when the node's broker answers metadata that lists every broker of the cluster. */
async function brokerHealthy(node: number): Promise<boolean> {
  const client = admin([`127.0.0.1:${brokerPort(node)}`]);
  try {
    await client.connect();
    const { brokers } = await client.describeCluster();
    return brokers.length === kafkaNodes;
  } catch {
    return false;
  } finally {
    await client.disconnect().catch(() => {});
  }
}

export function kafkaNode(node: number): Component {
  const name = `kafka-${node}`;
  return {
    name,
    address: `127.0.0.1:${brokerPort(node)}`,
    install: installKafka,
    async start() {
      if (!runningPid(name)) {
        const config = prepareNode(node);
        say(name, `starting broker on ${this.address}, controller on 127.0.0.1:${controllerPort(node)}`);
        startDaemon({
          name,
          command: 'java',
          args: java('kafka.Kafka', [config], process.env.KAFKA_HEAP ?? '512m'),
          marker: config,
          cwd: nodeDir(node),
        });
      }
    },
    healthy: () => brokerHealthy(node),
    pid: () => runningPid(name),
    async stop() {
      await stopDaemon(name, { graceMs: 30_000 });
    },
  };
}

export interface PartitionLeadership {
  partitionId: number;
  leader: number;
  replicas: number[];
}

/**
 * The partitions not led by their preferred replica (the first of their replicas), as
 * `topic/partition`. Kafka elects the preferred one again on its own; until it has, one broker
 * carries more than its share.
 */
export function offPreferredLeader(topics: { name: string; partitions: PartitionLeadership[] }[]): string[] {
  return topics.flatMap((topic) =>
    topic.partitions.filter((p) => p.leader !== p.replicas[0]).map((p) => `${topic.name}/${p.partitionId}`),
  );
}

/**
 * Brings every partition of the event topic and of the group offsets (where the group coordinators
 * live) back to its preferred leader before the services start. A restarted cluster's partitions are
 * all led by the first broker to come back, until Kafka's own check elects the preferred ones again
 * (every 300 s), which then moved the coordinators under the running services: a consumer-group
 * rebalance, every partition's view reloaded, five minutes into a test, CI or bench run. Kafka's
 * LeaderElectionCommand asks for the election at once. Not fatal: an unbalanced cluster works.
 * True when every partition of `topics` that exists is led by its preferred replica.
 */
export async function balanceLeaders(wanted: string[] = [eventTopic, '__consumer_offsets']): Promise<boolean> {
  const client = await clusterAdmin('stack-leaders');
  try {
    const existing = new Set(await client.listTopics());
    const topics = wanted.filter((topic) => existing.has(topic));
    const unbalanced = async () => offPreferredLeader((await client.fetchTopicMetadata({ topics })).topics);
    const off = await unbalanced();
    if (off.length === 0) return true;
    say('kafka', `electing the preferred leaders of ${off.length} partition(s) led by another broker`);
    try {
      run(
        'kafka',
        'java',
        [
          '-Xmx128m',
          '-cp',
          `${libsDir}/*`,
          'org.apache.kafka.tools.LeaderElectionCommand',
          '--bootstrap-server',
          urls.brokers,
          '--election-type',
          'PREFERRED',
          '--all-topic-partitions',
        ],
        { quiet: true },
      );
    } catch (error) {
      say('kafka', `the election failed, going on with the leaders as they are: ${(error as Error).message}`);
      return false;
    }
    let left = off;
    const balanced = async () => {
      left = await unbalanced();
      return left.length === 0;
    };
    if (await waitFor(balanced, { timeoutMs: 30_000, intervalMs: 500 })) return true;
    say('kafka', `still led by another broker, going on: ${left.join(', ')}`);
    return false;
  } finally {
    await client.disconnect();
  }
}

export const kafkaNodesList = Array.from({ length: kafkaNodes }, (_, i) => kafkaNode(i + 1));

export async function waitForKafka(): Promise<void> {
  for (const node of kafkaNodesList) {
    if (!(await waitFor(node.healthy, { timeoutMs: 120_000, intervalMs: 1000 }))) {
      throw new StackError(node.name, 'broker does not list every broker within 120 s', logFile(node.name));
    }
  }
}

/**
 * Creates the event topic and its dead-letter topic if missing, and brings an existing one's
 * configuration to the project's one definition of them (`src/projections/topics.ts`: the event
 * topic keeps its events forever, whatever the brokers' `log.retention.hours` says).
 */
export async function ensureTopics(partitions: number): Promise<void> {
  const client = await clusterAdmin('stack-topics');
  try {
    await ensureEventTopics(
      client,
      {
        topic: eventTopic,
        deadLetterTopic: process.env.KAFKA_DEAD_LETTER_TOPIC ?? 'product-events.dlq',
        partitions,
        replicationFactor: replication,
      },
      {
        info: (details, message) => say('kafka', `${message} ${JSON.stringify(details)}`),
        warn: (details, message) => say('kafka', `${message} ${JSON.stringify(details, errorText)}`),
      },
    );
  } finally {
    await client.disconnect();
  }
}

const errorText = (_key: string, value: unknown): unknown => (value instanceof Error ? value.message : value);

export const kafkaReplication = replication;
