import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { containersOf, initContainersOf, type Manifest, nameOf, ofKind } from './manifests.ts';

/**
 * Whether kube/ fits the cluster README tells users to start: the scheduler places a pod only where
 * its CPU requests fit, so every pod at its largest count (an autoscaled Deployment at maxReplicas,
 * the topic Job, one rolling update's surge pod) plus Minikube's own pods must fit the CPUs given.
 */

/**
 * CPU requests of Minikube's own pods with the addons README enables: kube-apiserver 250m,
 * kube-controller-manager 200m, etcd 100m, kube-scheduler 100m, coredns 100m, calico-node 250m,
 * ingress-nginx-controller 100m, metrics-server 100m.
 */
export const MINIKUBE_SYSTEM_MILLICPU = 1200;

/** `250m`, `1`, `0.5` as millicores. */
export function milliCpu(quantity: string | number | undefined): number {
  if (quantity === undefined) return 0;
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) : Math.round(Number(text) * 1000);
}

const cpuOf = (container: { resources?: { requests?: Record<string, unknown> } }) =>
  milliCpu(container.resources?.requests?.cpu as string | undefined);

/** A pod's request: its containers together, or its largest init container if that is more. */
export function podMilliCpu(pod: IPodSpec): number {
  const running = containersOf(pod).reduce((sum, c) => sum + cpuOf(c), 0);
  return Math.max(running, ...initContainersOf(pod).map(cpuOf));
}

/** What a Deployment, StatefulSet or Job says about its pods. */
interface Workload {
  metadata?: { name?: string };
  spec?: { replicas?: number; parallelism?: number; template: { spec?: IPodSpec } };
}

export interface Demand {
  name: string;
  pods: number;
  podMilliCpu: number;
}

/** Every workload at its largest count. */
export function demands(manifests: readonly Manifest[]): Demand[] {
  const autoscaled = new Map(
    ofKind(manifests, 'HorizontalPodAutoscaler').map((m) => {
      const spec = (m.object as IHorizontalPodAutoscaler).spec;
      return [spec?.scaleTargetRef.name, spec?.maxReplicas ?? 1] as const;
    }),
  );
  const of = (kind: string, count: (object: Workload) => number) =>
    ofKind(manifests, kind).map((m) => {
      const object = m.object as Workload;
      const pod = object.spec?.template.spec as IPodSpec;
      return { name: `${kind}/${nameOf(m.object)}`, pods: count(object), podMilliCpu: podMilliCpu(pod) };
    });
  return [
    ...of('Deployment', (d) => autoscaled.get(d.metadata?.name ?? '') ?? d.spec?.replicas ?? 1),
    ...of('StatefulSet', (s) => s.spec?.replicas ?? 1),
    ...of('Job', (j) => j.spec?.parallelism ?? 1),
  ];
}

/** The CPUs of `minikube start --cpus=N` in the README. */
export function documentedCpus(readme: string): number | undefined {
  const match = /minikube start [^\n]*--cpus[= ](\d+)/.exec(readme);
  return match ? Number(match[1]) : undefined;
}

export function capacityViolations(manifests: readonly Manifest[], cpus: number): string[] {
  const all = demands(manifests);
  const workloads = all.reduce((sum, d) => sum + d.pods * d.podMilliCpu, 0);
  // A rolling update adds one pod (maxSurge 1) to one Deployment at a time: the largest such pod.
  const surge = Math.max(0, ...all.filter((d) => d.name.startsWith('Deployment/')).map((d) => d.podMilliCpu));
  const needed = workloads + surge + MINIKUBE_SYSTEM_MILLICPU;
  if (needed <= cpus * 1000) return [];
  const detail = all.map((d) => `${d.name} ${d.pods} x ${d.podMilliCpu}m`).join(', ');
  return [
    `CPU requests at full scale need ${needed}m (${detail}, a ${surge}m surge pod, ${MINIKUBE_SYSTEM_MILLICPU}m for Minikube) ` +
      `of the ${cpus * 1000}m the documented cluster has`,
  ];
}
