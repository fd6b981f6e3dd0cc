import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { capacityViolations, documentedCpus, milliCpu } from './lib/capacity.ts';
import { cloneManifests, loadManifests, named, repoRoot } from './lib/manifests.ts';

const { manifests } = loadManifests();
const cpus = documentedCpus(readFileSync(join(repoRoot, 'README.md'), 'utf8'));

describe('kube/ fits the documented Minikube cluster', () => {
  test('README documents the cluster size', () => {
    assert.equal(cpus, 4);
  });

  test('every pod at full scale, the autoscaler at its maximum, fits its CPU requests', () => {
    assert.deepEqual(capacityViolations(manifests, cpus ?? 0), []);
  });

  test('an autoscaler maximum the cluster cannot schedule is reported', () => {
    const copy = cloneManifests(manifests);
    const hpa = named(copy, 'HorizontalPodAutoscaler', 'query')?.object as IHorizontalPodAutoscaler;
    assert.ok(hpa.spec);
    hpa.spec.maxReplicas = 12;
    const [violation] = capacityViolations(copy, cpus ?? 0);
    assert.match(violation ?? '', /Deployment\/query 12 x 200m/);
  });

  test('quantities in cores and millicores', () => {
    assert.deepEqual(['250m', '1', '0.5', 2].map(milliCpu), [250, 1000, 500, 2000]);
  });
});
