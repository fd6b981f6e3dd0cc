import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kafka, namespace, reachability, requiredKinds } from './lib/expectations.ts';
import {
  autoscalingViolations,
  deploymentViolations,
  endpointViolations,
  ingressViolations,
  kafkaViolations,
  namespaceViolations,
  networkPolicyViolations,
  placeholderSecretViolations,
  podHardeningViolations,
  referenceViolations,
  statefulSetViolations,
} from './lib/invariants.ts';
import { loadManifests, ofKind } from './lib/manifests.ts';
import { schemaViolations } from './lib/schema.ts';

const { manifests, problems } = loadManifests();

describe('kube/ manifests', () => {
  test('every file parses as YAML without duplicate keys, into Kubernetes objects', () => {
    assert.deepEqual(problems, []);
    assert.ok(manifests.length > 0, 'kube/ holds no manifests');
  });

  test('every object validates against the Kubernetes schema and has no unknown fields', () => {
    assert.deepEqual(schemaViolations(manifests), []);
  });

  test('holds every kind of object the deployment needs', () => {
    const missing = Object.entries(requiredKinds)
      .filter(([kind, count]) => ofKind(manifests, kind).length < count)
      .map(([kind, count]) => `${kind}: ${ofKind(manifests, kind).length} of at least ${count}`);
    assert.deepEqual(missing, []);
  });

  test(`everything is in namespace ${namespace}, which is applied first`, () => {
    assert.deepEqual(namespaceViolations(manifests, namespace), []);
  });

  test('every container runs non-root, read-only, unprivileged, with requests and limits', () => {
    assert.deepEqual(podHardeningViolations(manifests), []);
  });

  test('Deployments have InitContainers, health probes, scrape annotations and a PodDisruptionBudget', () => {
    assert.deepEqual(deploymentViolations(manifests), []);
  });

  test('StatefulSets have a headless Service, persistent volumes and probes', () => {
    assert.deepEqual(statefulSetViolations(manifests), []);
  });

  test('Kafka: 3 KRaft brokers, replication 3, min ISR 2, one broker may be down', () => {
    assert.deepEqual(kafkaViolations(manifests, kafka), []);
  });

  test('every referenced Secret, ConfigMap, key, volume, Service and port exists', () => {
    assert.deepEqual(referenceViolations(manifests), []);
  });

  test('every address resolves to a Service or pod of kube/, and URL passwords match the databases', () => {
    assert.deepEqual(endpointViolations(manifests), []);
  });

  test('Secrets hold marked placeholders only', () => {
    assert.deepEqual(placeholderSecretViolations(manifests), []);
  });

  test('NetworkPolicies allow exactly the intended connections', () => {
    assert.deepEqual(networkPolicyViolations(manifests, reachability), []);
  });

  test('the Ingress hashes writes by product id onto command replicas; both APIs are LoadBalancers', () => {
    assert.deepEqual(ingressViolations(manifests, 'command', 'query'), []);
  });

  test('the query service autoscales up to the partition count', () => {
    assert.deepEqual(autoscalingViolations(manifests, 'query', 'KAFKA_PARTITIONS'), []);
  });
});
