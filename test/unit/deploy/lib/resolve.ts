import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IContainerPort } from 'kubernetes-models/v1/ContainerPort';
import type { IService } from 'kubernetes-models/v1/Service';
import { isRecord, type Manifest, nameOf, ofKind, type Workload, workloads } from './manifests.ts';

/** Pods and objects of the catalog are told apart by this label, as in the NetworkPolicies. */
export const nameLabel = 'app.kubernetes.io/name';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes semantics: matchLabels and matchExpressions ANDed; an empty selector matches all. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    const value = labels[key];
    const ok =
      operator === 'In'
        ? has && values.includes(value as string)
        : operator === 'NotIn'
          ? !has || !values.includes(value as string)
          : operator === 'Exists'
            ? has
            : operator === 'DoesNotExist'
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

/** A Service's selector is a plain map; a Service without one selects nothing. */
export const serviceSelects = (service: IService, labels: Record<string, string>): boolean => {
  const selector = service.spec?.selector;
  return !!selector && Object.keys(selector).length > 0 && selectorMatches({ matchLabels: selector }, labels);
};

export const namespaceOf = (m: Manifest): string | undefined => m.object.metadata?.namespace;

/** Keys and values of ConfigMaps and Secrets, by "namespace/name". Secret `data` is base64. */
export interface Sources {
  configMaps: Map<string, Map<string, string>>;
  secrets: Map<string, Map<string, string>>;
}

export function sources(manifests: readonly Manifest[]): Sources {
  const configMaps = new Map<string, Map<string, string>>();
  const secrets = new Map<string, Map<string, string>>();
  for (const m of manifests) {
    const id = `${namespaceOf(m)}/${nameOf(m.object)}`;
    const values = new Map<string, string>();
    const add = (record: unknown, decode: boolean) => {
      if (!isRecord(record)) return;
      for (const [key, value] of Object.entries(record)) {
        values.set(key, decode ? Buffer.from(String(value), 'base64').toString('utf8') : String(value));
      }
    };
    if (m.object.kind === 'ConfigMap') {
      add(m.object.data, false);
      add(m.object.binaryData, true);
      configMaps.set(id, values);
    } else if (m.object.kind === 'Secret') {
      add(m.object.data, true);
      add(m.object.stringData, false);
      secrets.set(id, values);
    }
  }
  return { configMaps, secrets };
}

export interface EnvEntry {
  name: string;
  /** Undefined when only the cluster knows it (fieldRef, resourceFieldRef) or the source is missing. */
  value: string | undefined;
  origin: string;
  secret: boolean;
}

export interface Env {
  entries: Map<string, EnvEntry>;
  /** Names defined more than once: Kubernetes keeps the last silently, which hides mistakes. */
  duplicates: string[];
}

/** The environment the container's process starts with, in Kubernetes' precedence order. */
export function effectiveEnv(all: Sources, namespace: string | undefined, container: IContainer): Env {
  const entries = new Map<string, EnvEntry>();
  const duplicates: string[] = [];
  const set = (entry: EnvEntry) => {
    const previous = entries.get(entry.name);
    if (previous) duplicates.push(`${entry.name} (${previous.origin} and ${entry.origin})`);
    entries.set(entry.name, entry);
  };
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef?.name) {
      const data = all.configMaps.get(`${namespace}/${from.configMapRef.name}`);
      for (const [key, value] of data ?? []) {
        set({ name: prefix + key, value, origin: `ConfigMap ${from.configMapRef.name}`, secret: false });
      }
    }
    if (from.secretRef?.name) {
      const data = all.secrets.get(`${namespace}/${from.secretRef.name}`);
      for (const [key, value] of data ?? []) {
        set({ name: prefix + key, value, origin: `Secret ${from.secretRef.name}`, secret: true });
      }
    }
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom;
    if (ref?.configMapKeyRef) {
      const { name = '', key } = ref.configMapKeyRef;
      const value = all.configMaps.get(`${namespace}/${name}`)?.get(key);
      set({ name: variable.name, value, origin: `ConfigMap ${name} key ${key}`, secret: false });
    } else if (ref?.secretKeyRef) {
      const { name = '', key } = ref.secretKeyRef;
      const value = all.secrets.get(`${namespace}/${name}`)?.get(key);
      set({ name: variable.name, value, origin: `Secret ${name} key ${key}`, secret: true });
    } else if (ref) {
      set({ name: variable.name, value: undefined, origin: 'the downward API', secret: false });
    } else {
      set({ name: variable.name, value: variable.value ?? '', origin: 'a literal value', secret: false });
    }
  }
  return { entries, duplicates };
}

/** The port a probe, Service or policy names, resolved against the container's declared ports. */
export function containerPort(containers: readonly IContainer[], port: number | string): IContainerPort | undefined {
  const ports = containers.flatMap((c) => c.ports ?? []);
  return typeof port === 'number'
    ? ports.find((p) => p.containerPort === port)
    : (ports.find((p) => p.name === port) ??
        (/^\d+$/.test(port) ? ports.find((p) => p.containerPort === Number(port)) : undefined));
}

export const workloadsSelectedBy = (manifests: readonly Manifest[], service: Manifest): Workload[] =>
  workloads(manifests).filter(
    (w) => w.namespace === namespaceOf(service) && serviceSelects(service.object as unknown as IService, w.labels),
  );

export interface Endpoint {
  /** The Service the name resolves through, and the workloads behind it. */
  service: Manifest;
  workloads: Workload[];
}

const clusterDomain = 'svc.cluster.local';

/**
 * Resolves "host:port" the way cluster DNS would, from the manifests alone: `svc`, `svc.ns`,
 * `svc.ns.svc[.cluster.local]`, or a StatefulSet pod's `pod.svc.ns...` through its headless Service.
 * Returns a reason string when the name or the port would not resolve.
 */
export function resolveEndpoint(
  manifests: readonly Manifest[],
  fromNamespace: string | undefined,
  host: string,
  port: number,
): Endpoint | string {
  const labels = host.split('.');
  const services = ofKind(manifests, 'Service');
  const findService = (name: string, namespace: string | undefined) =>
    services.find((s) => nameOf(s.object) === name && namespaceOf(s) === namespace);
  const namespaceFrom = (rest: string[]): string | undefined | null => {
    if (rest.length === 0) return fromNamespace;
    const [ns, ...suffix] = rest;
    const tail = suffix.join('.');
    return tail === '' || tail === 'svc' || tail === clusterDomain ? ns : null;
  };

  const asService = (): Endpoint | string | undefined => {
    const [name = '', ...rest] = labels;
    const namespace = namespaceFrom(rest);
    if (namespace === null) return undefined;
    const service = findService(name, namespace);
    if (!service) return undefined;
    const spec = (service.object as unknown as IService).spec;
    if (!spec?.ports?.some((p) => p.port === port)) return `Service ${name} has no port ${port}`;
    return { service, workloads: workloadsSelectedBy(manifests, service) };
  };

  const asPod = (): Endpoint | string | undefined => {
    const [pod = '', name = '', ...rest] = labels;
    const namespace = namespaceFrom(rest);
    if (namespace === null || labels.length < 2) return undefined;
    const service = findService(name, namespace);
    if (!service) return undefined;
    const spec = (service.object as unknown as IService).spec;
    if (spec?.clusterIP !== 'None') return `${host}: pod DNS names exist only under a headless Service`;
    const owner = workloads(manifests).find((w) => {
      const sts = w.manifest.object.spec as { serviceName?: string; replicas?: number } | undefined;
      const ordinal = pod.startsWith(`${w.name}-`) ? Number(pod.slice(w.name.length + 1)) : Number.NaN;
      return (
        w.kind === 'StatefulSet' &&
        w.namespace === namespace &&
        sts?.serviceName === name &&
        Number.isInteger(ordinal) &&
        ordinal >= 0 &&
        ordinal < (sts?.replicas ?? 1)
      );
    });
    if (!owner) return `${host}: no StatefulSet pod ${pod} governed by Service ${name}`;
    if (!containerPort(owner.pod.containers ?? [], port)) return `${host}: pod ${pod} has no container port ${port}`;
    return { service, workloads: [owner] };
  };

  return asService() ?? asPod() ?? `${host}: no Service of that name in kube/`;
}

export interface Address {
  host: string;
  port: number;
  /** Set when the address came from a URL with credentials. */
  password?: string;
  text: string;
}

const hostPort = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*):(\d{1,5})$/;
const defaultPorts: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'mongodb:': 27017 };

/**
 * The network addresses a value names: a connection URL (postgres://, mongodb://, with every host of
 * a multi-host URL) or a comma-separated host:port list. Other values yield nothing.
 */
export function addressesIn(value: string): Address[] {
  const url = /^(postgres|postgresql|mongodb):\/\/(?:([^@/]*)@)?([^/?#]+)/.exec(value);
  if (url) {
    const scheme = `${url[1]}:`;
    const credentials = url[2];
    const password = credentials?.includes(':')
      ? decodeURIComponent(credentials.slice(credentials.indexOf(':') + 1))
      : undefined;
    return (url[3] ?? '').split(',').map((part) => {
      const [host = '', port] = part.split(':');
      return {
        host,
        port: port ? Number(port) : (defaultPorts[scheme] ?? 0),
        ...(password === undefined ? {} : { password }),
        text: part,
      };
    });
  }
  const parts = value.split(',').map((p) => p.trim());
  if (!parts.every((p) => hostPort.test(p))) return [];
  return parts.map((part) => {
    const [, host = '', , , , port = '0'] = hostPort.exec(part) ?? [];
    return { host, port: Number(port), text: part };
  });
}

/** key=value lines of a Java properties file (what Kafka reads); comments and blanks skipped. */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const at = line.search(/[=:]/);
    if (at < 0) result.set(line, '');
    else result.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return result;
}
