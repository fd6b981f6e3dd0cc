/**
 * Invariants of kube/, each a pure function from the parsed manifests to a list of violations
 * (empty when it holds), so a test can run it on the real files and on a deliberately broken copy.
 * Messages start with the file and object, and say what to fix.
 */
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IService } from 'kubernetes-models/v1/Service';
import { type ConfigError, loadConfig } from '../../../../src/infra/config.ts';
import {
  allContainersOf,
  containersOf,
  type Manifest,
  named,
  nameOf,
  ofKind,
  type Workload,
  where,
  workloads,
  workloadWhere,
} from './manifests.ts';
import {
  addressesIn,
  containerPort,
  effectiveEnv,
  type LabelSelector,
  nameLabel,
  namespaceOf,
  parseProperties,
  resolveEndpoint,
  selectorMatches,
  serviceSelects,
  sources,
  workloadsSelectedBy,
} from './resolve.ts';

const spec = <T>(m: Manifest): NonNullable<T> => ((m.object as { spec?: T }).spec ?? {}) as NonNullable<T>;

const hasQuantity = (record: Record<string, unknown> | undefined, name: string) =>
  record?.[name] !== undefined && record[name] !== '' && record[name] !== null;

/** Which Deployment runs which service, as the other checks need it. */
export interface ServiceSpec {
  /** Deployment name; its container of the same name runs the service. */
  deployment: string;
  /** The variables the service reads: the keys of its settings table in src/infra/config.ts. */
  settings: Parameters<typeof loadConfig>[0];
  /** The setting holding its HTTP port. */
  portSetting: string;
}

const serviceContainer = (deployment: Manifest): IContainer | undefined => {
  const pod = spec<IDeployment['spec']>(deployment).template?.spec;
  return pod?.containers.find((c) => c.name === nameOf(deployment.object)) ?? pod?.containers[0];
};

/**
 * The namespace comes first in `kubectl apply -f kube/` order, and every other object is in it:
 * an object without a namespace would land in whatever namespace the user's context points at.
 */
export function namespaceViolations(manifests: readonly Manifest[], namespace: string): string[] {
  const violations: string[] = [];
  const first = manifests[0];
  if (first?.object.kind !== 'Namespace' || nameOf(first.object) !== namespace) {
    violations.push(
      `kube/: the first object applied must be Namespace ${namespace} (put it in the first file by name)`,
    );
  }
  for (const m of manifests) {
    if (m.object.kind === 'Namespace') continue;
    if (namespaceOf(m) !== namespace) violations.push(`${where(m)}: metadata.namespace must be ${namespace}`);
  }
  return violations;
}

/**
 * What the "restricted" Pod Security Standard of the namespace demands, plus resource requests and
 * limits, for every container (init containers included) of every workload.
 */
export function podHardeningViolations(manifests: readonly Manifest[]): string[] {
  const violations: string[] = [];
  for (const w of workloads(manifests)) {
    const pod = w.pod;
    const podSecurity = pod.securityContext ?? {};
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) violations.push(`${workloadWhere(w)}: uses a host namespace`);
    if (pod.automountServiceAccountToken !== false) {
      violations.push(`${workloadWhere(w)}: automountServiceAccountToken must be false (nothing here calls the API)`);
    }
    for (const volume of pod.volumes ?? []) {
      if (volume.hostPath) violations.push(`${workloadWhere(w)}: volume ${volume.name} is a hostPath`);
    }
    for (const c of allContainersOf(pod)) {
      const at = `${workloadWhere(w)} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if ((sc.runAsNonRoot ?? podSecurity.runAsNonRoot) !== true) violations.push(`${at}: runAsNonRoot is not true`);
      if ((sc.runAsUser ?? podSecurity.runAsUser) === 0) violations.push(`${at}: runs as uid 0`);
      if (sc.allowPrivilegeEscalation !== false) violations.push(`${at}: allowPrivilegeEscalation is not false`);
      if (sc.privileged) violations.push(`${at}: is privileged`);
      if (sc.readOnlyRootFilesystem !== true) violations.push(`${at}: readOnlyRootFilesystem is not true`);
      if (!sc.capabilities?.drop?.includes('ALL')) violations.push(`${at}: capabilities do not drop ALL`);
      if ((sc.capabilities?.add ?? []).length > 0) violations.push(`${at}: adds capabilities`);
      const seccomp = (sc.seccompProfile ?? podSecurity.seccompProfile)?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
        violations.push(`${at}: seccompProfile must be RuntimeDefault (pod or container)`);
      }
      const { requests, limits } = c.resources ?? {};
      for (const resource of ['cpu', 'memory']) {
        if (!hasQuantity(requests, resource)) violations.push(`${at}: no ${resource} request`);
        if (!hasQuantity(limits, resource)) violations.push(`${at}: no ${resource} limit`);
      }
    }
  }
  return violations;
}

const probePort = (probe: IProbe | undefined) => probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;

/** Probes must target a port the container declares; a typo'd name fails every probe in the cluster. */
function probeViolations(at: string, c: IContainer): string[] {
  const violations: string[] = [];
  for (const [kind, probe] of [
    ['startupProbe', c.startupProbe],
    ['livenessProbe', c.livenessProbe],
    ['readinessProbe', c.readinessProbe],
  ] as const) {
    const port = probePort(probe);
    if (port !== undefined && !containerPort([c], port))
      violations.push(`${at}: ${kind} targets undeclared port ${port}`);
  }
  return violations;
}

/**
 * Every Deployment (the two services): waits for its dependencies in InitContainers, is probed on
 * the health routes, announces its metrics to Prometheus, and is covered by a PodDisruptionBudget.
 */
export function deploymentViolations(manifests: readonly Manifest[]): string[] {
  const violations: string[] = [];
  const budgets = ofKind(manifests, 'PodDisruptionBudget');
  for (const w of workloads(manifests).filter((x) => x.kind === 'Deployment')) {
    if ((w.pod.initContainers ?? []).length === 0) {
      violations.push(`${workloadWhere(w)}: no InitContainers waiting for its dependencies`);
    }
    for (const c of containersOf(w.pod)) {
      const at = `${workloadWhere(w)} container ${c.name}`;
      if (c.livenessProbe?.httpGet?.path !== '/health/live') {
        violations.push(`${at}: livenessProbe must be an httpGet of /health/live`);
      }
      if (c.readinessProbe?.httpGet?.path !== '/health/ready') {
        violations.push(`${at}: readinessProbe must be an httpGet of /health/ready`);
      }
      violations.push(...probeViolations(at, c));
    }
    const scrape = w.annotations;
    if (scrape['prometheus.io/scrape'] !== 'true')
      violations.push(`${workloadWhere(w)}: no prometheus.io/scrape: "true"`);
    if (scrape['prometheus.io/path'] !== '/metrics')
      violations.push(`${workloadWhere(w)}: prometheus.io/path is not /metrics`);
    const port = Number(scrape['prometheus.io/port']);
    if (!containerPort(containersOf(w.pod), port)) {
      violations.push(`${workloadWhere(w)}: prometheus.io/port is not one of its container ports`);
    }
    const covered = budgets.some(
      (b) =>
        namespaceOf(b) === w.namespace &&
        selectorMatches(spec<IPodDisruptionBudget['spec']>(b).selector as LabelSelector, w.labels),
    );
    if (!covered) violations.push(`${workloadWhere(w)}: no PodDisruptionBudget selects its pods`);
  }
  return violations;
}

/** StatefulSets: a headless governing Service (stable names), persistent volumes, readiness. */
export function statefulSetViolations(manifests: readonly Manifest[]): string[] {
  const violations: string[] = [];
  for (const w of workloads(manifests).filter((x) => x.kind === 'StatefulSet')) {
    const sts = spec<IStatefulSet['spec']>(w.manifest);
    const governing = named(manifests, 'Service', sts.serviceName ?? '');
    const service = governing && (governing.object as unknown as IService);
    if (service?.spec?.clusterIP !== 'None' || !serviceSelects(service, w.labels)) {
      violations.push(`${workloadWhere(w)}: serviceName must name a headless Service selecting its pods`);
    }
    const claims = (sts.volumeClaimTemplates ?? []).map((t) => t.metadata?.name);
    if (claims.length === 0) violations.push(`${workloadWhere(w)}: no volumeClaimTemplates (data would not persist)`);
    const mounted = new Set(allContainersOf(w.pod).flatMap((c) => (c.volumeMounts ?? []).map((v) => v.name)));
    for (const claim of claims) {
      if (claim && !mounted.has(claim)) violations.push(`${workloadWhere(w)}: volume claim ${claim} is not mounted`);
    }
    for (const c of containersOf(w.pod)) {
      const at = `${workloadWhere(w)} container ${c.name}`;
      if (!c.readinessProbe) violations.push(`${at}: no readinessProbe`);
      if (!c.livenessProbe) violations.push(`${at}: no livenessProbe`);
      violations.push(...probeViolations(at, c));
    }
  }
  return violations;
}

export interface KafkaExpectation {
  statefulSet: string;
  brokers: number;
  replicationFactor: number;
  minInsyncReplicas: number;
}

/**
 * Kafka tolerates one broker down without losing or refusing acknowledged writes: 3 brokers that are
 * also the 3 controller voters, replication 3 for every topic (internal ones included), min ISR 2, no
 * unclean leader election, at most one broker disrupted at a time, brokers spread across nodes.
 */
export function kafkaViolations(manifests: readonly Manifest[], expected: KafkaExpectation): string[] {
  const violations: string[] = [];
  const manifest = named(manifests, 'StatefulSet', expected.statefulSet);
  if (!manifest) return [`kube/: no StatefulSet ${expected.statefulSet}`];
  const at = where(manifest);
  const sts = spec<IStatefulSet['spec']>(manifest);
  const w = workloads([manifest])[0] as Workload;
  if (sts.replicas !== expected.brokers)
    violations.push(`${at}: replicas is ${sts.replicas}, expected ${expected.brokers}`);
  if (sts.podManagementPolicy !== 'Parallel') {
    violations.push(`${at}: podManagementPolicy must be Parallel (the quorum needs its peers to start)`);
  }

  const all = sources(manifests);
  const propertyFiles = (w.pod.volumes ?? [])
    .filter((v) => v.configMap?.name)
    .map((v) => all.configMaps.get(`${w.namespace}/${v.configMap?.name}`)?.get('server.properties'))
    .filter((text): text is string => text !== undefined);
  const text = propertyFiles[0];
  if (!text) return [...violations, `${at}: mounts no ConfigMap with a server.properties key`];
  const props = parseProperties(text);
  const want: Record<string, string> = {
    'default.replication.factor': String(expected.replicationFactor),
    'offsets.topic.replication.factor': String(expected.replicationFactor),
    'transaction.state.log.replication.factor': String(expected.replicationFactor),
    'min.insync.replicas': String(expected.minInsyncReplicas),
    'transaction.state.log.min.isr': String(expected.minInsyncReplicas),
    'unclean.leader.election.enable': 'false',
  };
  for (const [key, value] of Object.entries(want)) {
    if (props.get(key) !== value)
      violations.push(`${at}: server.properties ${key} is ${props.get(key)}, expected ${value}`);
  }
  if (expected.minInsyncReplicas >= expected.replicationFactor) {
    violations.push(`${at}: min ISR must be below the replication factor, or one broker down stops all writes`);
  }
  if (expected.replicationFactor > expected.brokers) violations.push(`${at}: replication factor exceeds brokers`);
  const roles = (props.get('process.roles') ?? '').split(',').map((r) => r.trim());
  if (!roles.includes('broker') || !roles.includes('controller')) {
    violations.push(`${at}: process.roles must be broker,controller (KRaft combined mode)`);
  }
  const voters = (props.get('controller.quorum.voters') ?? '').split(',').filter(Boolean);
  const voterIds = voters.map((v) => Number(v.split('@')[0])).sort((a, b) => a - b);
  const wantedIds = Array.from({ length: expected.brokers }, (_, i) => i);
  if (JSON.stringify(voterIds) !== JSON.stringify(wantedIds)) {
    violations.push(`${at}: controller.quorum.voters must list node ids ${wantedIds.join(',')}, one per pod`);
  }
  for (const voter of voters) {
    const address = voter.split('@')[1] ?? '';
    const [host = '', port = '0'] = address.split(':');
    const resolved = resolveEndpoint(manifests, w.namespace, host, Number(port));
    if (typeof resolved === 'string') violations.push(`${at}: quorum voter ${voter}: ${resolved}`);
  }

  const budget = ofKind(manifests, 'PodDisruptionBudget').find((b) =>
    selectorMatches(spec<IPodDisruptionBudget['spec']>(b).selector as LabelSelector, w.labels),
  );
  const pdb = budget ? spec<IPodDisruptionBudget['spec']>(budget) : undefined;
  const allowsOne =
    pdb && (pdb.maxUnavailable === 1 || (pdb.minAvailable !== undefined && pdb.minAvailable === expected.brokers - 1));
  if (!allowsOne) violations.push(`${at}: needs a PodDisruptionBudget allowing exactly one broker down`);

  const antiAffinity = w.pod.affinity?.podAntiAffinity;
  const terms = [
    ...(antiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => t.podAffinityTerm),
    ...(antiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
  ];
  const spreads = terms.some(
    (t) => t.topologyKey === 'kubernetes.io/hostname' && selectorMatches(t.labelSelector as LabelSelector, w.labels),
  );
  if (!spreads) violations.push(`${at}: no pod anti-affinity spreading the brokers across nodes`);
  return violations;
}

/**
 * Every Secret, ConfigMap, key, volume, Service and port an object refers to exists. kubectl accepts
 * a dangling reference; the pod then hangs in CreateContainerConfigError or the Service routes nowhere.
 */
export function referenceViolations(manifests: readonly Manifest[]): string[] {
  const violations: string[] = [];
  const all = sources(manifests);
  const configMap = (ns: string | undefined, name: string) => all.configMaps.get(`${ns}/${name}`);
  const secret = (ns: string | undefined, name: string) => all.secrets.get(`${ns}/${name}`);
  const everyWorkload = workloads(manifests);

  for (const w of everyWorkload) {
    const volumes = new Set((w.pod.volumes ?? []).map((v) => v.name));
    for (const claim of spec<IStatefulSet['spec']>(w.manifest).volumeClaimTemplates ?? []) {
      if (claim.metadata?.name) volumes.add(claim.metadata.name);
    }
    for (const c of allContainersOf(w.pod)) {
      const at = `${workloadWhere(w)} container ${c.name}`;
      for (const from of c.envFrom ?? []) {
        const cm = from.configMapRef;
        if (cm?.name && !cm.optional && !configMap(w.namespace, cm.name)) {
          violations.push(`${at}: envFrom ConfigMap ${cm.name} does not exist`);
        }
        const s = from.secretRef;
        if (s?.name && !s.optional && !secret(w.namespace, s.name)) {
          violations.push(`${at}: envFrom Secret ${s.name} does not exist`);
        }
      }
      for (const variable of c.env ?? []) {
        const cm = variable.valueFrom?.configMapKeyRef;
        if (cm && !cm.optional && !configMap(w.namespace, cm.name ?? '')?.has(cm.key)) {
          violations.push(`${at}: env ${variable.name} refers to missing ConfigMap key ${cm.name}/${cm.key}`);
        }
        const s = variable.valueFrom?.secretKeyRef;
        if (s && !s.optional && !secret(w.namespace, s.name ?? '')?.has(s.key)) {
          violations.push(`${at}: env ${variable.name} refers to missing Secret key ${s.name}/${s.key}`);
        }
      }
      for (const mount of c.volumeMounts ?? []) {
        if (!volumes.has(mount.name)) violations.push(`${at}: mounts undeclared volume ${mount.name}`);
      }
    }
    for (const volume of w.pod.volumes ?? []) {
      const at = `${workloadWhere(w)} volume ${volume.name}`;
      const refs: { kind: 'ConfigMap' | 'Secret'; name: string; optional?: boolean; keys: string[] }[] = [];
      if (volume.configMap) {
        refs.push({
          kind: 'ConfigMap',
          name: volume.configMap.name ?? '',
          ...(volume.configMap.optional === undefined ? {} : { optional: volume.configMap.optional }),
          keys: (volume.configMap.items ?? []).map((i) => i.key),
        });
      }
      if (volume.secret) {
        refs.push({
          kind: 'Secret',
          name: volume.secret.secretName ?? '',
          ...(volume.secret.optional === undefined ? {} : { optional: volume.secret.optional }),
          keys: (volume.secret.items ?? []).map((i) => i.key),
        });
      }
      for (const source of volume.projected?.sources ?? []) {
        if (source.configMap) {
          refs.push({
            kind: 'ConfigMap',
            name: source.configMap.name ?? '',
            keys: (source.configMap.items ?? []).map((i) => i.key),
          });
        }
        if (source.secret) {
          refs.push({
            kind: 'Secret',
            name: source.secret.name ?? '',
            keys: (source.secret.items ?? []).map((i) => i.key),
          });
        }
      }
      for (const ref of refs) {
        if (ref.optional) continue;
        const data = ref.kind === 'ConfigMap' ? configMap(w.namespace, ref.name) : secret(w.namespace, ref.name);
        if (!data) {
          violations.push(`${at}: ${ref.kind} ${ref.name} does not exist`);
          continue;
        }
        for (const key of ref.keys) {
          if (!data.has(key)) violations.push(`${at}: ${ref.kind} ${ref.name} has no key ${key}`);
        }
      }
    }
  }

  const services = ofKind(manifests, 'Service');
  for (const s of services) {
    const selected = workloadsSelectedBy(manifests, s);
    if (selected.length === 0) {
      violations.push(`${where(s)}: its selector matches no pod template`);
      continue;
    }
    for (const port of (s.object as unknown as IService).spec?.ports ?? []) {
      const target = port.targetPort ?? port.port;
      if (!selected.some((w) => containerPort(containersOf(w.pod), target))) {
        violations.push(`${where(s)}: targetPort ${target} is not a container port of the pods it selects`);
      }
    }
  }
  for (const b of ofKind(manifests, 'PodDisruptionBudget')) {
    const selector = spec<IPodDisruptionBudget['spec']>(b).selector as LabelSelector;
    if (!everyWorkload.some((w) => w.namespace === namespaceOf(b) && selectorMatches(selector, w.labels))) {
      violations.push(`${where(b)}: its selector matches no pod template`);
    }
  }
  for (const h of ofKind(manifests, 'HorizontalPodAutoscaler')) {
    const target = spec<IHorizontalPodAutoscaler['spec']>(h).scaleTargetRef;
    if (
      !everyWorkload.some((w) => w.kind === target?.kind && w.name === target.name && w.namespace === namespaceOf(h))
    ) {
      violations.push(`${where(h)}: scaleTargetRef ${target?.kind}/${target?.name} does not exist`);
    }
  }
  for (const i of ofKind(manifests, 'Ingress')) {
    for (const rule of spec<IIngress['spec']>(i).rules ?? []) {
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend.service;
        if (!backend) continue;
        const service = services.find((s) => nameOf(s.object) === backend.name && namespaceOf(s) === namespaceOf(i));
        const ports = (service?.object as IService | undefined)?.spec?.ports ?? [];
        if (!service) violations.push(`${where(i)}: backend Service ${backend.name} does not exist`);
        else if (!ports.some((p) => p.name === backend.port?.name || p.port === backend.port?.number)) {
          violations.push(
            `${where(i)}: Service ${backend.name} has no port ${backend.port?.name ?? backend.port?.number}`,
          );
        }
      }
    }
  }
  return violations;
}

/**
 * The service container's environment is exactly the set of variables the service reads: none
 * missing (it would silently run on a local-stack default), none extra (a typo, or a setting
 * removed from config.ts that the manifests still pretend to control).
 */
export function envViolations(manifests: readonly Manifest[], services: readonly ServiceSpec[]): string[] {
  const violations: string[] = [];
  const all = sources(manifests);
  for (const service of services) {
    const deployment = named(manifests, 'Deployment', service.deployment);
    if (!deployment) {
      violations.push(`kube/: no Deployment ${service.deployment}`);
      continue;
    }
    const at = where(deployment);
    const pod = spec<IDeployment['spec']>(deployment).template?.spec;
    if (pod?.enableServiceLinks !== false) {
      violations.push(`${at}: enableServiceLinks must be false, or Kubernetes adds *_SERVICE_HOST/*_PORT variables`);
    }
    const container = serviceContainer(deployment);
    if (!container) continue;
    const env = effectiveEnv(all, namespaceOf(deployment), container);
    const wanted = new Set(Object.keys(service.settings));
    for (const name of wanted) {
      if (!env.entries.has(name)) violations.push(`${at}: ${name} is read by the service but not set`);
    }
    for (const name of env.entries.keys()) {
      if (!wanted.has(name)) violations.push(`${at}: ${name} is set but the service does not read it`);
    }
    for (const duplicate of env.duplicates) violations.push(`${at}: ${duplicate} is defined twice`);
  }
  return violations;
}

/**
 * The values the manifests give pass the services' own start-up validation (the same `loadConfig`),
 * the HTTP port matches the container port, and tokens, passwords and URLs with credentials come
 * from Secrets, not ConfigMaps or literals.
 */
export function configValueViolations(manifests: readonly Manifest[], services: readonly ServiceSpec[]): string[] {
  const violations: string[] = [];
  const all = sources(manifests);
  for (const service of services) {
    const deployment = named(manifests, 'Deployment', service.deployment);
    const container = deployment && serviceContainer(deployment);
    if (!deployment || !container) continue;
    const at = where(deployment);
    const env = effectiveEnv(all, namespaceOf(deployment), container);
    const values: Record<string, string> = {};
    for (const [name, entry] of env.entries) if (entry.value !== undefined) values[name] = entry.value;
    try {
      loadConfig(service.settings, values);
    } catch (error) {
      for (const problem of (error as ConfigError).problems ?? [(error as Error).message]) {
        violations.push(`${at}: ${problem.replace(/=".*?":/, ':')}`);
      }
    }
    const port = Number(values[service.portSetting]);
    if (!(container.ports ?? []).some((p) => p.containerPort === port && p.name === 'http')) {
      violations.push(`${at}: container port "http" must be ${service.portSetting} (${values[service.portSetting]})`);
    }
    for (const [name, entry] of env.entries) {
      const credentials = /TOKEN|PASSWORD|SECRET/.test(name) || /^[a-z]+:\/\/[^/@]*:[^/@]*@/.test(entry.value ?? '');
      if (credentials && !entry.secret) {
        violations.push(`${at}: ${name} comes from ${entry.origin}; it must come from a Secret`);
      }
    }
  }
  return violations;
}

/**
 * Every address a container is given (connection URLs, broker lists, InitContainer wait targets)
 * names a Service or StatefulSet pod of kube/ and a port it serves, and every password inside a URL is
 * one the target database is provisioned with (a Secret value its own containers read).
 */
export function endpointViolations(manifests: readonly Manifest[]): string[] {
  const violations: string[] = [];
  const all = sources(manifests);
  for (const w of workloads(manifests)) {
    for (const c of allContainersOf(w.pod)) {
      const at = `${workloadWhere(w)} container ${c.name}`;
      const env = effectiveEnv(all, w.namespace, c);
      const values = [
        ...[...env.entries.values()].map((e) => ({ label: e.name, value: e.value })),
        ...[...(c.command ?? []), ...(c.args ?? [])].map((value) => ({ label: 'argument', value })),
      ];
      for (const { label, value } of values) {
        if (value === undefined) continue;
        for (const address of addressesIn(value)) {
          const resolved = resolveEndpoint(manifests, w.namespace, address.host, address.port);
          if (typeof resolved === 'string') {
            violations.push(`${at}: ${label} ${address.text}: ${resolved}`);
            continue;
          }
          if (address.password === undefined) continue;
          const provisioned = new Set(
            resolved.workloads.flatMap((target) =>
              allContainersOf(target.pod).flatMap((tc) =>
                [...effectiveEnv(all, target.namespace, tc).entries.values()]
                  .filter((e) => e.secret && e.value !== undefined)
                  .map((e) => e.value),
              ),
            ),
          );
          if (!provisioned.has(address.password)) {
            const targets = resolved.workloads.map((t) => t.name).join(', ') || 'nothing';
            violations.push(`${at}: the password in ${label} is not one ${targets} is provisioned with`);
          }
        }
      }
    }
  }
  return violations;
}

/** Secrets in the repository are placeholders, recognisably so, never real credentials. */
export function placeholderSecretViolations(manifests: readonly Manifest[]): string[] {
  const violations: string[] = [];
  for (const m of ofKind(manifests, 'Secret')) {
    const values = sources([m]).secrets.values().next().value ?? new Map<string, string>();
    for (const [key, value] of values) {
      if (!/change-?me/i.test(value))
        violations.push(`${where(m)}: ${key} is not marked as a placeholder ("change-me")`);
    }
  }
  return violations;
}

/** Pods of a workload outside kube/ (other namespaces, the node, the internet). */
export const outside = 'outside';

export interface Reach {
  /** app.kubernetes.io/name of the target pods. */
  target: string;
  port: number;
  /** Exactly who may connect: names of pods in kube/, plus `outside`; or '*' for anyone. */
  from: readonly string[] | '*';
}

/**
 * Computes, from the NetworkPolicies, who can open a connection to each target port (the same
 * additive semantics as the API: unselected pods are open, selected ones accept the union of their
 * policies' rules) and compares with the intended matrix.
 */
export function networkPolicyViolations(manifests: readonly Manifest[], expected: readonly Reach[]): string[] {
  const violations: string[] = [];
  const pods = workloads(manifests);
  const everyone = new Set([...pods.map((w) => w.labels[nameLabel] ?? w.name), outside]);
  const policies = ofKind(manifests, 'NetworkPolicy');
  const namespaceLabels = (ns: string | undefined) => ({
    ...(named(manifests, 'Namespace', ns ?? '')?.object.metadata?.labels ?? {}),
    'kubernetes.io/metadata.name': ns ?? '',
  });

  const allowed = (target: Workload, port: number): Set<string> => {
    const applying = policies.filter((p) => {
      const s = spec<INetworkPolicy['spec']>(p);
      const types = s.policyTypes ?? ['Ingress'];
      return (
        namespaceOf(p) === target.namespace &&
        types.includes('Ingress') &&
        selectorMatches(s.podSelector as LabelSelector, target.labels)
      );
    });
    if (applying.length === 0) return new Set(everyone);
    const result = new Set<string>();
    for (const p of applying) {
      for (const rule of spec<INetworkPolicy['spec']>(p).ingress ?? []) {
        const ports = rule.ports ?? [];
        const portMatches =
          ports.length === 0 ||
          ports.some((rp) => {
            if (rp.port === undefined) return true;
            if (typeof rp.port === 'number')
              return rp.endPort ? port >= rp.port && port <= rp.endPort : port === rp.port;
            return containerPort(containersOf(target.pod), rp.port)?.containerPort === port;
          });
        if (!portMatches) continue;
        const peers = rule.from ?? [];
        if (peers.length === 0) {
          for (const name of everyone) result.add(name);
          continue;
        }
        for (const peer of peers) {
          if (peer.ipBlock) {
            result.add(outside);
            continue;
          }
          const inNamespace = peer.namespaceSelector
            ? selectorMatches(peer.namespaceSelector as LabelSelector, namespaceLabels(target.namespace))
            : true;
          if (peer.namespaceSelector) result.add(outside);
          if (!inNamespace) continue;
          for (const source of pods.filter((w) => w.namespace === target.namespace)) {
            if (!peer.podSelector || selectorMatches(peer.podSelector as LabelSelector, source.labels)) {
              result.add(source.labels[nameLabel] ?? source.name);
            }
          }
        }
      }
    }
    return result;
  };

  for (const reach of expected) {
    const targets = pods.filter((w) => w.labels[nameLabel] === reach.target);
    if (targets.length === 0) violations.push(`kube/: no pods labelled ${nameLabel}=${reach.target}`);
    for (const target of targets) {
      const actual = allowed(target, reach.port);
      const wanted = reach.from === '*' ? everyone : new Set(reach.from);
      for (const source of actual) {
        if (!wanted.has(source)) violations.push(`NetworkPolicy: ${source} can reach ${reach.target}:${reach.port}`);
      }
      for (const source of wanted) {
        if (!actual.has(source)) violations.push(`NetworkPolicy: ${source} cannot reach ${reach.target}:${reach.port}`);
      }
    }
  }
  return violations;
}

/**
 * Writes for one product reach one command replica: an ingress-nginx Ingress routes
 * /products/{id}... with a named capture of the id and hashes the upstream on that capture. Its
 * Service is used by no other Ingress (ingress-nginx keeps one balancing setting per Service).
 * Both APIs are also exposed as LoadBalancer Services for `minikube tunnel`.
 */
export function ingressViolations(manifests: readonly Manifest[], commandPods: string, queryPods: string): string[] {
  const violations: string[] = [];
  const ingresses = ofKind(manifests, 'Ingress');
  const backendsOf = (i: Manifest) =>
    (spec<IIngress['spec']>(i).rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => ({ path: p })));
  const selectsPods = (serviceName: string, app: string) => {
    const service = named(manifests, 'Service', serviceName);
    return !!service && workloadsSelectedBy(manifests, service).some((w) => w.labels[nameLabel] === app);
  };

  const hashed = ingresses.filter((i) => {
    const annotations = i.object.metadata?.annotations ?? {};
    const key = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(annotations['nginx.ingress.kubernetes.io/upstream-hash-by'] ?? '');
    if (!key || annotations['nginx.ingress.kubernetes.io/use-regex'] !== 'true') return false;
    return backendsOf(i).some(
      ({ path }) =>
        path.pathType === 'ImplementationSpecific' &&
        new RegExp(`^/products/\\(\\?<${key[1]}>\\[\\^/\\]\\+\\)`).test(path.path ?? '') &&
        selectsPods(path.backend.service?.name ?? '', commandPods),
    );
  });
  if (hashed.length === 0) {
    violations.push(
      'kube/: no Ingress hashes /products/{id} to a command replica (use-regex, a named capture of the id, upstream-hash-by on it)',
    );
  }
  for (const h of hashed) {
    const hashedServices = new Set(backendsOf(h).map(({ path }) => path.backend.service?.name));
    for (const other of ingresses.filter((i) => i !== h)) {
      for (const { path } of backendsOf(other)) {
        if (hashedServices.has(path.backend.service?.name)) {
          violations.push(`${where(other)}: shares Service ${path.backend.service?.name} with the hashing Ingress`);
        }
      }
    }
  }
  for (const app of [commandPods, queryPods]) {
    const exposed = ofKind(manifests, 'Service').some(
      (s) =>
        (s.object as unknown as IService).spec?.type === 'LoadBalancer' &&
        workloadsSelectedBy(manifests, s).some((w) => w.labels[nameLabel] === app),
    );
    if (!exposed) violations.push(`kube/: no LoadBalancer Service for ${app}`);
    const routed = ingresses.some((i) =>
      backendsOf(i).some(({ path }) => selectsPods(path.backend.service?.name ?? '', app)),
    );
    if (!routed) violations.push(`kube/: no Ingress routes to ${app}`);
  }
  return violations;
}

/**
 * The query service autoscales, but no further than the partition count (a consumer group gives each
 * partition to one member; extra replicas get none), and its Deployment leaves `replicas` to the HPA.
 */
export function autoscalingViolations(
  manifests: readonly Manifest[],
  deployment: string,
  partitionsSetting: string,
): string[] {
  const violations: string[] = [];
  const hpa = ofKind(manifests, 'HorizontalPodAutoscaler').find(
    (h) => spec<IHorizontalPodAutoscaler['spec']>(h).scaleTargetRef?.name === deployment,
  );
  if (!hpa) return [`kube/: no HorizontalPodAutoscaler for Deployment ${deployment}`];
  const s = spec<IHorizontalPodAutoscaler['spec']>(hpa);
  const partitions = Number(
    [...sources(manifests).configMaps.values()].find((data) => data.has(partitionsSetting))?.get(partitionsSetting),
  );
  if (!(s.maxReplicas <= partitions)) {
    violations.push(`${where(hpa)}: maxReplicas ${s.maxReplicas} exceeds ${partitionsSetting} (${partitions})`);
  }
  if ((s.minReplicas ?? 1) < 2) violations.push(`${where(hpa)}: minReplicas below 2 leaves reads on one pod`);
  const target = named(manifests, 'Deployment', deployment);
  if (target && spec<IDeployment['spec']>(target).replicas !== undefined) {
    violations.push(`${where(target)}: sets replicas, which every kubectl apply resets under the autoscaler`);
  }
  return violations;
}
