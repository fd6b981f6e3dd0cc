import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { cloneManifests, loadManifests, type Manifest, named } from './lib/manifests.ts';
import { readinessViolations } from './lib/readiness.ts';

const { manifests } = loadManifests();

function changed(
  deployment: string,
  change: (init: NonNullable<NonNullable<IDeployment['spec']>['template']['spec']>['initContainers']) => void,
): Manifest[] {
  const copy = cloneManifests(manifests);
  const object = named(copy, 'Deployment', deployment)?.object as IDeployment;
  change(object.spec?.template.spec?.initContainers);
  return copy;
}

const reports = (violations: string[], part: string) =>
  assert.ok(
    violations.some((v) => v.includes(part)),
    `expected "${part}" in:\n${violations.join('\n')}`,
  );

describe('InitContainers wait for real readiness (kube/12-wait-for.yaml)', () => {
  test('PostgreSQL login, a MongoDB primary and all three brokers, with the services own settings', () => {
    assert.deepEqual(readinessViolations(manifests), []);
  });

  test('the former TCP-only waits are reported', () => {
    const tcp = changed('query', (init) => {
      const wait = init?.[0];
      assert.ok(wait);
      wait.command = [
        'node',
        '/opt/wait-for/wait-for.cjs',
        'mongo-0.mongo.cqrs-system.svc.cluster.local:27017',
        'kafka.cqrs-system.svc.cluster.local:9092',
      ];
    });
    const violations = readinessViolations(tcp);
    reports(violations, 'waits for mongo-0.mongo.cqrs-system.svc.cluster.local:27017 to accept TCP');
    reports(violations, 'Deployment/query: does not wait for mongodb-primary');
    reports(violations, 'Deployment/query: does not wait for kafka-brokers=3');
  });

  test('one broker instead of three, or a login other than the service`s, is reported', () => {
    reports(
      readinessViolations(
        changed('command', (init) => {
          const wait = init?.[0];
          assert.ok(wait?.command);
          wait.command = wait.command.map((part) => (part === 'kafka-brokers=3' ? 'kafka-brokers=1' : part));
        }),
      ),
      'does not wait for kafka-brokers=3',
    );
    reports(
      readinessViolations(
        changed('command', (init) => {
          const entry = init?.[0]?.env?.find((e) => e.name === 'DATABASE_URL');
          assert.ok(entry?.valueFrom?.secretKeyRef);
          entry.valueFrom.secretKeyRef.name = 'query-secrets';
        }),
      ),
      'gets DATABASE_URL secret/query-secrets/DATABASE_URL, the service secret/command-secrets/DATABASE_URL',
    );
  });

  test('a script whose MongoDB check does not ask for a primary is reported', () => {
    const copy = cloneManifests(manifests);
    const map = named(copy, 'ConfigMap', 'wait-for')?.object as IConfigMap;
    assert.ok(map.data);
    map.data['wait-for.cjs'] = (map.data['wait-for.cjs'] ?? '').replaceAll('isWritablePrimary', 'ok');
    reports(readinessViolations(copy), 'no check mongodb-primary that asks isWritablePrimary');
  });
});
