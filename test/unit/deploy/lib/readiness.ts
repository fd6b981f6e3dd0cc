import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { type Manifest, named } from './manifests.ts';

/**
 * The services' InitContainers wait for their dependencies to be ready, not for an open port:
 * PostgreSQL accepting the service's own login, MongoDB's replica set with a writable primary, every
 * Kafka broker registered. Each check of kube/12-wait-for.yaml reads the service's own variable,
 * which the InitContainer must get from the same place as the service.
 */

/** A check of wait-for.cjs, the variable it reads, and what its code must ask the dependency. */
const CHECKS = {
  postgres: { variable: 'DATABASE_URL', asks: 'select 1' },
  'mongodb-primary': { variable: 'MONGO_URL', asks: 'isWritablePrimary' },
  'kafka-brokers': { variable: 'KAFKA_BROKERS', asks: 'describeCluster' },
} as const;
type CheckName = keyof typeof CHECKS;

/** Which checks each Deployment's InitContainer must run; `kafka-brokers` with the broker count. */
export const REQUIRED_CHECKS: Record<string, CheckName[]> = {
  command: ['postgres', 'kafka-brokers'],
  query: ['mongodb-primary', 'kafka-brokers'],
};

/** Where a container gets a variable: `secret/<name>/<key>`, `configMap/<name>` (envFrom), or nothing. */
function sourceOf(container: IContainer, variable: string): string | undefined {
  const entry = container.env?.find((e) => e.name === variable);
  const secret = entry?.valueFrom?.secretKeyRef;
  if (secret) return `secret/${secret.name}/${secret.key}`;
  if (entry?.value !== undefined) return `value/${entry.value}`;
  const names = (container.envFrom ?? []).map((e) => e.configMapRef?.name).filter((n): n is string => !!n);
  return names.length ? `configMaps/${names.sort().join(',')}` : undefined;
}

/** Whether a ConfigMap of `names` holds `variable`. */
const configMapsHold = (manifests: readonly Manifest[], names: string[], variable: string) =>
  names.some((name) => (named(manifests, 'ConfigMap', name)?.object as IConfigMap | undefined)?.data?.[variable]);

export function readinessViolations(manifests: readonly Manifest[]): string[] {
  const violations: string[] = [];
  const script = (named(manifests, 'ConfigMap', 'wait-for')?.object as IConfigMap | undefined)?.data?.['wait-for.cjs'];
  if (!script) return ['kube/: no ConfigMap wait-for with wait-for.cjs'];
  for (const [name, { asks }] of Object.entries(CHECKS)) {
    if (!script.includes(`${name}`) || !script.includes(asks)) {
      violations.push(`wait-for.cjs: no check ${name} that asks ${asks}`);
    }
  }
  const brokers = (named(manifests, 'StatefulSet', 'kafka')?.object as IStatefulSet | undefined)?.spec?.replicas ?? 0;
  for (const [deployment, required] of Object.entries(REQUIRED_CHECKS)) {
    const pod = (named(manifests, 'Deployment', deployment)?.object as IDeployment | undefined)?.spec?.template.spec;
    const init = pod?.initContainers?.find((c) => c.command?.some((part) => part.endsWith('wait-for.cjs')));
    const main = pod?.containers[0];
    if (!init || !main) {
      violations.push(`Deployment/${deployment}: no InitContainer running wait-for.cjs`);
      continue;
    }
    const args = (init.command ?? []).slice((init.command ?? []).findIndex((p) => p.endsWith('wait-for.cjs')) + 1);
    for (const arg of args.filter((a) => /^[\w.-]+:\d+$/.test(a))) {
      violations.push(`Deployment/${deployment}: waits for ${arg} to accept TCP, which says nothing of its readiness`);
    }
    for (const check of required) {
      const wanted = check === 'kafka-brokers' ? `${check}=${brokers}` : check;
      if (!args.includes(wanted)) violations.push(`Deployment/${deployment}: does not wait for ${wanted}`);
      const { variable } = CHECKS[check];
      const given = sourceOf(init, variable);
      const source = sourceOf(main, variable);
      const sameConfigMap =
        given?.startsWith('configMaps/') &&
        configMapsHold(manifests, given.slice('configMaps/'.length).split(','), variable);
      if (!given || (given !== source && !sameConfigMap)) {
        violations.push(
          `Deployment/${deployment}: the InitContainer gets ${variable} ${given ?? 'nowhere'}, the service ${source}`,
        );
      }
    }
  }
  return violations;
}
