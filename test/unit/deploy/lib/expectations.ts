/**
 * What kube/ and the Dockerfiles must add up to: the intended topology in one place, shared by the
 * tests of the real files and of their broken copies.
 */
import { commandSettings, querySettings } from '../../../../src/infra/config.ts';
import type { KafkaExpectation, Reach, ServiceSpec } from './invariants.ts';
import { outside } from './invariants.ts';

export const namespace = 'cqrs-system';

/** Read from config.ts at test time, so a setting added there must be added to kube/ too. */
export const services: readonly ServiceSpec[] = [
  { deployment: 'command', settings: commandSettings, portSetting: 'COMMAND_PORT' },
  { deployment: 'query', settings: querySettings, portSetting: 'QUERY_PORT' },
];

export interface ImageSpec {
  dockerfile: string;
  /** The service's entry point; the image must run what tsc makes of it. */
  source: string;
  /** Its port, as the service reads it: the image's EXPOSE documents the same one. */
  port: number;
}

export const images: readonly ImageSpec[] = [
  {
    dockerfile: 'Dockerfile.command',
    source: 'src/command-service.ts',
    port: Number(commandSettings.COMMAND_PORT.fallback),
  },
  { dockerfile: 'Dockerfile.query', source: 'src/query-service.ts', port: Number(querySettings.QUERY_PORT.fallback) },
];

/** Loaded by piscina by file name, not imported, so the compiler's import graph does not vouch for it. */
export const workerSource = 'src/actors/worker.ts';

export const kafka: KafkaExpectation = { statefulSet: 'kafka', brokers: 3, replicationFactor: 3, minInsyncReplicas: 2 };

/**
 * Who may connect to what. The query service reaching PostgreSQL is deliberate: it reads the event
 * store (consistency verifier, rebuilds) through a read-only role.
 */
export const reachability: readonly Reach[] = [
  { target: 'postgres', port: 5432, from: ['command', 'query'] },
  { target: 'mongo', port: 27017, from: ['query'] },
  { target: 'kafka', port: 9092, from: ['command', 'query', 'kafka', 'kafka-topics'] },
  { target: 'kafka', port: 9093, from: ['kafka'] },
  { target: 'command', port: 8080, from: '*' },
  { target: 'query', port: 8081, from: '*' },
];

/** Kinds the issue asks kube/ to contain, with how many of each at least. */
export const requiredKinds: Record<string, number> = {
  Namespace: 1,
  ConfigMap: 1,
  Secret: 1,
  StatefulSet: 3,
  Job: 1,
  Deployment: 2,
  Service: 4,
  PodDisruptionBudget: 3,
  HorizontalPodAutoscaler: 1,
  NetworkPolicy: 4,
  Ingress: 1,
};

export { outside };
