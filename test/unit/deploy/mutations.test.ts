/**
 * Each invariant, run on a copy of kube/ (or of a Dockerfile) broken in one place, reports that
 * place: a check that cannot fail proves nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import { dockerfileViolations, dockerignoreViolations } from './lib/dockerfile.ts';
import { kafka, namespace, reachability, services } from './lib/expectations.ts';
import {
  autoscalingViolations,
  configValueViolations,
  deploymentViolations,
  endpointViolations,
  envViolations,
  ingressViolations,
  kafkaViolations,
  namespaceViolations,
  networkPolicyViolations,
  placeholderSecretViolations,
  podHardeningViolations,
  referenceViolations,
  statefulSetViolations,
} from './lib/invariants.ts';
import { cloneManifests, loadManifests, type Manifest, named, repoRoot } from './lib/manifests.ts';
import { schemaViolations } from './lib/schema.ts';

const original = loadManifests().manifests;

/** A fresh copy of kube/ and a typed handle on one of its objects. */
function broken<T>(kind: string, name: string): { manifests: Manifest[]; object: T } {
  const manifests = cloneManifests(original);
  const manifest = named(manifests, kind, name);
  assert.ok(manifest, `kube/ has no ${kind}/${name}`);
  return { manifests, object: manifest.object as unknown as T };
}

/** Another object of the same copy. */
function objectOf<T>(manifests: readonly Manifest[], kind: string, name: string): T {
  const manifest = named(manifests, kind, name);
  assert.ok(manifest, `kube/ has no ${kind}/${name}`);
  return manifest.object as unknown as T;
}

const podOf = (workload: IDeployment | IStatefulSet): IPodSpec => {
  const pod = workload.spec?.template.spec;
  assert.ok(pod);
  return pod;
};

const containerOf = (workload: IDeployment | IStatefulSet, name: string): IContainer => {
  const container = podOf(workload).containers.find((c) => c.name === name);
  assert.ok(container, `no container ${name}`);
  return container;
};

function assertReports(violations: string[], fragment: string): void {
  assert.ok(
    violations.some((v) => v.includes(fragment)),
    `expected a violation mentioning "${fragment}", got:\n${violations.join('\n') || '(none)'}`,
  );
}

describe('broken manifests are reported', () => {
  test('a Deployment without a readiness probe', () => {
    const { manifests, object } = broken<IDeployment>('Deployment', 'command');
    delete containerOf(object, 'command').readinessProbe;
    assertReports(
      deploymentViolations(manifests),
      'container command: readinessProbe must be an httpGet of /health/ready',
    );
  });

  test('a liveness probe on another route, and a probe on an undeclared port', () => {
    const { manifests, object } = broken<IDeployment>('Deployment', 'query');
    const container = containerOf(object, 'query');
    container.livenessProbe = { httpGet: { path: '/', port: 'http' } };
    container.readinessProbe = { httpGet: { path: '/health/ready', port: 'htp' } };
    const violations = deploymentViolations(manifests);
    assertReports(violations, 'livenessProbe must be an httpGet of /health/live');
    assertReports(violations, 'readinessProbe targets undeclared port htp');
  });

  test('a Deployment without InitContainers, scrape annotations or a PodDisruptionBudget', () => {
    const { manifests, object } = broken<IDeployment>('Deployment', 'query');
    delete podOf(object).initContainers;
    const template = object.spec?.template;
    if (template?.metadata) template.metadata.annotations = {};
    const withoutBudget = manifests.filter(
      (m) => !(m.object.kind === 'PodDisruptionBudget' && m.object.metadata?.name === 'query'),
    );
    const violations = deploymentViolations(withoutBudget);
    assertReports(violations, 'Deployment/query: no InitContainers');
    assertReports(violations, 'Deployment/query: no prometheus.io/scrape');
    assertReports(violations, 'Deployment/query: no PodDisruptionBudget');
  });

  test('a container that may escalate, writes its root filesystem, keeps capabilities, has no limits', () => {
    const { manifests, object } = broken<IDeployment>('Deployment', 'command');
    const container = containerOf(object, 'command');
    container.securityContext = { allowPrivilegeEscalation: true, readOnlyRootFilesystem: false };
    const init = podOf(object).initContainers?.[0];
    assert.ok(init?.resources);
    delete init.resources.limits;
    const violations = podHardeningViolations(manifests);
    assertReports(violations, 'container command: allowPrivilegeEscalation is not false');
    assertReports(violations, 'container command: readOnlyRootFilesystem is not true');
    assertReports(violations, 'container command: capabilities do not drop ALL');
    assertReports(violations, `container ${init.name}: no cpu limit`);
    assertReports(violations, `container ${init.name}: no memory limit`);
  });

  test('a pod that may run as root', () => {
    const { manifests, object } = broken<IStatefulSet>('StatefulSet', 'postgres');
    const pod = podOf(object);
    pod.securityContext = { ...pod.securityContext, runAsNonRoot: false, runAsUser: 0 };
    const violations = podHardeningViolations(manifests);
    assertReports(violations, 'StatefulSet/postgres container postgres: runAsNonRoot is not true');
    assertReports(violations, 'StatefulSet/postgres container postgres: runs as uid 0');
  });

  test('a misspelt field and a wrongly typed one', () => {
    const { manifests, object } = broken<IDeployment>('Deployment', 'command');
    const container = containerOf(object, 'command') as IContainer & { readinesProbe?: unknown };
    container.readinesProbe = container.readinessProbe;
    (container.ports as unknown as { containerPort: string }[])[0] = { containerPort: 'eighty' };
    const violations = schemaViolations(manifests);
    assertReports(violations, 'unknown field spec.template.spec.containers[0].readinesProbe');
    assertReports(violations, 'containerPort must be integer');
  });

  test('a kind nothing validates', () => {
    const manifests = [...cloneManifests(original), { file: 'kube/x.yaml', object: { apiVersion: 'v1', kind: 'Pod' } }];
    assertReports(schemaViolations(manifests), 'v1/Pod has no schema');
  });

  test('Kafka with 2 brokers, min ISR 1, one voter missing, no budget', () => {
    const { manifests, object } = broken<IStatefulSet>('StatefulSet', 'kafka');
    if (object.spec) object.spec.replicas = 2;
    const config = objectOf<IConfigMap>(manifests, 'ConfigMap', 'kafka-config');
    const properties = config.data?.['server.properties'] ?? '';
    config.data = {
      ...config.data,
      'server.properties': properties
        .replace('min.insync.replicas=2', 'min.insync.replicas=1')
        .replace(/,2@[^\n,]+/, ''),
    };
    const withoutBudget = manifests.filter(
      (m) => !(m.object.kind === 'PodDisruptionBudget' && m.object.metadata?.name === 'kafka'),
    );
    const violations = kafkaViolations(withoutBudget, kafka);
    assertReports(violations, 'replicas is 2, expected 3');
    assertReports(violations, 'min.insync.replicas is 1, expected 2');
    assertReports(violations, 'controller.quorum.voters must list node ids 0,1,2');
    assertReports(violations, 'PodDisruptionBudget allowing exactly one broker down');
  });

  test('a StatefulSet without persistent volumes', () => {
    const { manifests, object } = broken<IStatefulSet>('StatefulSet', 'mongo');
    if (object.spec) delete object.spec.volumeClaimTemplates;
    assertReports(statefulSetViolations(manifests), 'StatefulSet/mongo: no volumeClaimTemplates');
    assertReports(referenceViolations(manifests), 'mounts undeclared volume data');
  });

  test('a missing Secret key, a missing ConfigMap, a Service selecting nothing', () => {
    const { manifests, object } = broken<IDeployment>('Deployment', 'command');
    const secretRef = containerOf(object, 'command').env?.find((e) => e.valueFrom?.secretKeyRef)?.valueFrom
      ?.secretKeyRef;
    assert.ok(secretRef);
    secretRef.key = 'NO_SUCH_KEY';
    const withoutWaitFor = manifests.filter(
      (m) => !(m.object.kind === 'ConfigMap' && m.object.metadata?.name === 'wait-for'),
    );
    const service = objectOf<IService>(withoutWaitFor, 'Service', 'postgres');
    service.spec = { ...service.spec, selector: { 'app.kubernetes.io/name': 'postgress' } };
    const violations = referenceViolations(withoutWaitFor);
    assertReports(violations, `refers to missing Secret key ${secretRef.name}/NO_SUCH_KEY`);
    assertReports(violations, 'ConfigMap wait-for does not exist');
    assertReports(violations, 'Service/postgres: its selector matches no pod template');
  });

  test('an extra variable, a duplicate one, and service links left on', () => {
    const { manifests, object } = broken<IDeployment>('Deployment', 'command');
    const container = containerOf(object, 'command');
    container.env = [
      ...(container.env ?? []),
      { name: 'NODE_OPTIONS', value: '--inspect' },
      { name: 'HOST', value: '::' },
    ];
    delete podOf(object).enableServiceLinks;
    const violations = envViolations(manifests, services);
    assertReports(violations, 'NODE_OPTIONS is set but the service does not read it');
    assertReports(violations, 'HOST (ConfigMap catalog-shared and a literal value) is defined twice');
    assertReports(violations, 'enableServiceLinks must be false');
  });

  test('a value the service would refuse at start-up, and a token outside a Secret', () => {
    const { manifests, object } = broken<IConfigMap>('ConfigMap', 'command-config');
    object.data = { ...object.data, WORKER_THREADS: '0' };
    const deployment = objectOf<IDeployment>(manifests, 'Deployment', 'command');
    const container = containerOf(deployment, 'command');
    container.env = (container.env ?? []).map((e) =>
      e.name === 'COMMAND_API_TOKENS' ? { name: e.name, value: 'a-literal-token-in-the-manifest' } : e,
    );
    const violations = configValueViolations(manifests, services);
    assertReports(violations, 'WORKER_THREADS');
    assertReports(violations, 'COMMAND_API_TOKENS comes from a literal value; it must come from a Secret');
  });

  test('a connection URL to a host that does not exist, and a password the database does not have', () => {
    const { manifests, object } = broken<ISecret>('Secret', 'command-secrets');
    const queryUrl = objectOf<ISecret>(manifests, 'Secret', 'query-secrets').stringData;
    assert.ok(queryUrl?.DATABASE_URL && object.stringData?.DATABASE_URL);
    object.stringData.DATABASE_URL = object.stringData.DATABASE_URL.replace('@postgres.', '@postgre.');
    queryUrl.DATABASE_URL = queryUrl.DATABASE_URL.replace(/:[^:@/]+@/, ':change-me-but-wrong@');
    const violations = endpointViolations(manifests);
    assertReports(violations, 'Deployment/command container command: DATABASE_URL postgre.cqrs-system');
    assertReports(
      violations,
      'Deployment/query container query: the password in DATABASE_URL is not one postgres is provisioned with',
    );
  });

  test('a Secret that looks real', () => {
    const { manifests, object } = broken<ISecret>('Secret', 'postgres-credentials');
    object.stringData = { ...object.stringData, 'superuser-password': 'hunter2' };
    assertReports(placeholderSecretViolations(manifests), 'superuser-password is not marked as a placeholder');
  });

  test('a NetworkPolicy that opens MongoDB to everyone, and one that shuts Kafka to the command service', () => {
    const { manifests, object } = broken<INetworkPolicy>('NetworkPolicy', 'mongo');
    const rule = object.spec?.ingress?.[0];
    assert.ok(rule);
    delete rule.from;
    const kafkaPolicy = objectOf<INetworkPolicy>(manifests, 'NetworkPolicy', 'kafka');
    const values = kafkaPolicy.spec?.ingress?.[0]?.from?.[0]?.podSelector?.matchExpressions?.[0]?.values;
    assert.ok(values);
    values.splice(values.indexOf('command'), 1);
    const violations = networkPolicyViolations(manifests, reachability);
    assertReports(violations, 'command can reach mongo:27017');
    assertReports(violations, 'outside can reach mongo:27017');
    assertReports(violations, 'command cannot reach kafka:9092');
  });

  test('without the default deny and its own policy, PostgreSQL is open to every pod and beyond', () => {
    const manifests = cloneManifests(original).filter(
      (m) =>
        !(
          m.object.kind === 'NetworkPolicy' &&
          ['default-deny-ingress', 'postgres'].includes(m.object.metadata?.name ?? '')
        ),
    );
    const violations = networkPolicyViolations(manifests, reachability);
    assertReports(violations, 'outside can reach postgres:5432');
    assertReports(violations, 'mongo can reach postgres:5432');
  });

  test('an Ingress that no longer hashes by product id', () => {
    const { manifests, object } = broken<{ metadata: { annotations: Record<string, string> } }>(
      'Ingress',
      'command-by-product',
    );
    delete object.metadata.annotations['nginx.ingress.kubernetes.io/upstream-hash-by'];
    assertReports(ingressViolations(manifests, 'command', 'query'), 'no Ingress hashes /products/{id}');
  });

  test('an autoscaler beyond the partition count, and a Deployment that fights it', () => {
    const { manifests, object } = broken<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler', 'query');
    if (object.spec) object.spec.maxReplicas = 24;
    const deployment = objectOf<IDeployment>(manifests, 'Deployment', 'query');
    if (deployment.spec) deployment.spec.replicas = 2;
    const violations = autoscalingViolations(manifests, 'query', 'KAFKA_PARTITIONS');
    assertReports(violations, 'maxReplicas 24 exceeds KAFKA_PARTITIONS (12)');
    assertReports(violations, 'sets replicas');
  });

  test('an object outside the namespace', () => {
    const { manifests, object } = broken<{ metadata: { namespace?: string } }>('Service', 'kafka');
    delete object.metadata.namespace;
    assertReports(namespaceViolations(manifests, namespace), 'Service/kafka: metadata.namespace must be cqrs-system');
    assertReports(namespaceViolations(manifests.slice(1), namespace), 'the first object applied must be Namespace');
  });
});

describe('broken Dockerfiles are reported', () => {
  const text = readFileSync(join(repoRoot, 'Dockerfile.command'), 'utf8');
  const expected = { entry: 'dist/src/command-service.js', port: 8080 };
  const finalStageAt = text.lastIndexOf('\nFROM ');

  test('the real file passes, so the cases below fail for their one change', () => {
    assert.deepEqual(dockerfileViolations(text, expected), []);
  });

  test('a single stage', () => {
    const single = text.slice(finalStageAt).replace(/COPY --from=\S+/g, 'COPY');
    assertReports(dockerfileViolations(single, expected), 'must be multi-stage');
  });

  test('no USER, a named USER, root', () => {
    assertReports(dockerfileViolations(text.replace(/^USER .*$/m, ''), expected), 'no USER');
    assertReports(dockerfileViolations(text.replace(/^USER .*$/m, 'USER node'), expected), 'is not numeric');
    assertReports(dockerfileViolations(text.replace(/^USER .*$/m, 'USER 0:0'), expected), 'final USER is root');
  });

  test('the whole context, or all dependencies, copied into the final image', () => {
    const context = text.replace(/^COPY package.json \.\/$/m, 'COPY . .');
    assertReports(dockerfileViolations(context, expected), 'copies . from the build context into the final stage');
    const allDependencies = text.replace(/COPY --from=prod-deps/, 'COPY --from=build');
    assertReports(
      dockerfileViolations(allDependencies, expected),
      'node_modules must come from a stage that ran npm ci --omit=dev',
    );
  });

  test('code before dependencies, a shell-form CMD, a wrong entry point', () => {
    const lines = text.split('\n');
    const deps = lines.findIndex((l) => l.startsWith('COPY --from=prod-deps'));
    const code = lines.findIndex((l) => l.startsWith('COPY --from=build'));
    [lines[deps], lines[code]] = [lines[code] as string, lines[deps] as string];
    assertReports(dockerfileViolations(lines.join('\n'), expected), 'dependencies after code');
    const shell = text.replace(/^CMD .*$/m, 'CMD node dist/src/command-service.js');
    assertReports(dockerfileViolations(shell, expected), 'CMD must be in exec form');
    assertReports(
      dockerfileViolations(text, { ...expected, entry: 'dist/src/other.js' }),
      'does not run node dist/src/other.js',
    );
  });

  test('a secret in an ENV, npm install instead of npm ci', () => {
    const secret = text.replace(/^USER /m, 'ENV DATABASE_URL=postgres://u:p@h/db\nUSER ');
    assertReports(dockerfileViolations(secret, expected), 'looks like a secret baked into the image');
    const install = text.replace('npm ci --ignore-scripts', 'npm install --ignore-scripts');
    assertReports(dockerfileViolations(install, expected), 'npm install; use npm ci');
  });

  test('a .dockerignore that is not an allowlist', () => {
    const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').replace(/^\*$/m, 'node_modules');
    const violations = dockerignoreViolations(ignore, ['src/infra/config.ts'], ['.git/HEAD', '.env']);
    assertReports(violations, '.git/HEAD would be sent to the build context');
    assertReports(violations, '.env would be sent to the build context');
  });
});
