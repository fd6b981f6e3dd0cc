import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { parseAllDocuments } from 'yaml';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const kubeDir = join(repoRoot, 'kube');

export interface Metadata {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: Metadata;
  [field: string]: unknown;
}

/** One object of one file; `file` is relative to the repository root, for messages. */
export interface Manifest {
  file: string;
  object: KubeObject;
}

export interface Loaded {
  manifests: Manifest[];
  /** YAML syntax errors, duplicate keys, documents that are not Kubernetes objects. */
  problems: string[];
}

/**
 * Reads every .yaml/.yml file of `dir` in the order `kubectl apply -f` does (by name), so that
 * order-dependent checks (the Namespace first) see what the API server will see.
 */
export function loadManifests(dir: string = kubeDir): Loaded {
  const manifests: Manifest[] = [];
  const problems: string[] = [];
  const files = readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();
  for (const name of files) {
    const path = join(dir, name);
    const loaded = parseManifests(readFileSync(path, 'utf8'), relative(repoRoot, path));
    manifests.push(...loaded.manifests);
    problems.push(...loaded.problems);
  }
  return { manifests, problems };
}

export function parseManifests(text: string, file: string): Loaded {
  const manifests: Manifest[] = [];
  const problems: string[] = [];
  // uniqueKeys: a repeated key is legal YAML where the last one silently wins; kubectl would apply a
  // different object than the one a reviewer read.
  const documents = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(documents)) return { manifests, problems };
  documents.forEach((document, index) => {
    for (const error of [...document.errors, ...document.warnings]) {
      problems.push(`${file} document ${index + 1}: ${error.message}`);
    }
    if (document.errors.length > 0) return;
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
      problems.push(`${file} document ${index + 1}: not a Kubernetes object (no apiVersion and kind)`);
      return;
    }
    manifests.push({ file, object: value as KubeObject });
  });
  return { manifests, problems };
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const nameOf = (object: KubeObject): string => object.metadata?.name ?? '<unnamed>';

/** "kube/30-command.yaml Deployment/command": where a violation is, in every message. */
export const where = (manifest: Manifest): string =>
  `${manifest.file} ${manifest.object.kind}/${nameOf(manifest.object)}`;

export const ofKind = (manifests: readonly Manifest[], kind: string): Manifest[] =>
  manifests.filter((m) => m.object.kind === kind);

export const named = (manifests: readonly Manifest[], kind: string, name: string): Manifest | undefined =>
  manifests.find((m) => m.object.kind === kind && m.object.metadata?.name === name);

/** Objects with a pod template, and how to reach it. */
export interface Workload {
  manifest: Manifest;
  kind: string;
  name: string;
  namespace: string | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  pod: IPodSpec;
}

const podTemplateKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

export function workloads(manifests: readonly Manifest[]): Workload[] {
  const result: Workload[] = [];
  for (const manifest of manifests) {
    const { object } = manifest;
    if (!podTemplateKinds.has(object.kind)) continue;
    const spec = isRecord(object.spec) ? object.spec : {};
    const template = isRecord(spec.template) ? spec.template : {};
    const metadata = (isRecord(template.metadata) ? template.metadata : {}) as Metadata;
    result.push({
      manifest,
      kind: object.kind,
      name: nameOf(object),
      namespace: object.metadata?.namespace,
      labels: metadata.labels ?? {},
      annotations: metadata.annotations ?? {},
      pod: (isRecord(template.spec) ? template.spec : { containers: [] }) as unknown as IPodSpec,
    });
  }
  return result;
}

export const workloadWhere = (w: Workload): string => where(w.manifest);

export const containersOf = (pod: IPodSpec): IContainer[] => pod.containers ?? [];
export const initContainersOf = (pod: IPodSpec): IContainer[] => pod.initContainers ?? [];
export const allContainersOf = (pod: IPodSpec): IContainer[] => [...initContainersOf(pod), ...containersOf(pod)];

/** A deep copy to mutate in a test without touching the loaded originals. */
export const cloneManifests = (manifests: readonly Manifest[]): Manifest[] => structuredClone([...manifests]);
