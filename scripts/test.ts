import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { ensureTopics } from '../src/projections/topics.ts';
import { kafkaReplication } from './stack/kafka.ts';
import { repoRoot, testData, testEnv, urls } from './stack/paths.ts';
import { recreateTestDatabase } from './stack/postgres.ts';
import { say, waitFor } from './stack/progress.ts';
import { serviceEnv } from './stack/services.ts';
import { down, up } from './stack/stack.ts';

/**
 * `npm test`: type check, lint, then every unit and integration test on node:test through tsx,
 * against the local stack. Starts the stack's servers if they are not running and stops only what
 * it started. The tests never touch the stack's data: they get a PostgreSQL database, a MongoDB
 * database and an event topic of their own (`testData`: `catalog_test`, `catalog-test-events`),
 * emptied at the start of each run, so `npm run verify` on the stack stays clean. Services that
 * `npm run up` started keep running: the outbox relay's leader lock is a PostgreSQL advisory lock,
 * and advisory locks (like NOTIFY channels) belong to one database, so the stack's command service
 * on `catalog` and the tests' on `catalog_test` each lead their own relay. `npm test -- --unit` runs
 * the unit tests alone (no stack); other arguments filter test files by path.
 */

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function testFiles(dir: string): string[] {
  const abs = join(repoRoot, dir);
  try {
    statSync(abs);
  } catch {
    return [];
  }
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => relative(repoRoot, join(abs, f)))
    .sort();
}

function step(name: string, command: string, commandArgs: string[]): void {
  say('test', name);
  const result = spawnSync(command, commandArgs, { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\n${name} failed`);
    process.exit(1);
  }
}

/**
 * Empties the tests' data: their PostgreSQL database, their MongoDB database and their topics.
 * When the database is in use (another test run, a service left over from an interrupted one),
 * all three are kept as they are, and only the topics are created if missing.
 */
async function freshTestData(): Promise<void> {
  const fresh = await recreateTestDatabase();
  if (!fresh) {
    say('test', `${testData.database} is in use by another session: reusing it and the test topics as they are`);
  } else {
    const mongo = new MongoClient(urls.testMongo, { serverSelectionTimeoutMS: 30_000 });
    try {
      await mongo.db().dropDatabase();
    } finally {
      await mongo.close();
    }
  }
  const admin = new Kafka({
    clientId: 'test-topics',
    brokers: urls.brokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const names = [testData.topic, testData.deadLetterTopic];
    const existing = async () => (await admin.listTopics()).filter((t) => names.includes(t));
    if (fresh && (await existing()).length > 0) {
      await admin.deleteTopics({ topics: await existing() });
      if (!(await waitFor(async () => (await existing()).length === 0, { timeoutMs: 60_000 }))) {
        throw new Error(`the topics ${names.join(', ')} were not deleted within 60 s`);
      }
    }
    // The tests' topics are made as the stack's are, from the one definition (src/projections/topics.ts).
    await ensureTopics(
      admin,
      {
        topic: testData.topic,
        deadLetterTopic: testData.deadLetterTopic,
        partitions: Number(process.env.KAFKA_PARTITIONS ?? 12),
        replicationFactor: kafkaReplication,
      },
      { info: () => {}, warn: (details, message) => say('test', `${message} ${JSON.stringify(details)}`) },
    );
  } finally {
    await admin.disconnect();
  }
}

async function main(): Promise<number> {
  step('type check (tsc --noEmit)', 'npx', ['tsc', '--noEmit']);
  step('lint and format check (biome)', 'npx', ['biome', 'check', '.']);

  const unit = [...testFiles('test/unit'), ...testFiles('src')];
  const integration = unitOnly ? [] : testFiles('test/integration');
  const files = [...unit, ...integration].filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)));
  if (files.length === 0) {
    console.error('no test files matched');
    return 1;
  }
  const needsStack = files.some((f) => integration.includes(f));

  const started = needsStack ? await up({ services: false }) : [];
  try {
    if (needsStack) {
      say('test', `emptying the tests' own data: ${testData.database}, ${testData.topic}`);
      await freshTestData();
    }
    say('test', `running ${files.length} test files`);
    // One file at a time: integration tests share the stack, and some stop a broker on purpose.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', ...files],
      {
        cwd: repoRoot,
        stdio: 'inherit',
        env: { ...process.env, ...serviceEnv(), ...testEnv(), LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
      },
    );
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    if (started.length > 0) {
      say('test', `stopping what the tests started: ${started.map((c) => c.name).join(', ')}`);
      await down(started);
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
