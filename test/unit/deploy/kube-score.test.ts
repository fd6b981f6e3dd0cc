import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { kubeDir, repoRoot } from './lib/manifests.ts';

/**
 * kube-score, an offline linter of Kubernetes manifests (built once from the Go module proxy by
 * scripts/kube-score/install.sh), finds nothing critical in kube/ but what is ignored here, for the
 * reasons given. Its warnings are printed, not failed on: pods have ingress NetworkPolicies only.
 */

const IGNORED: Record<string, string> = {
  'container-image-pull-policy':
    'the service images are loaded into the cluster (minikube image load) and are in no registry; the others are pinned releases',
  'container-security-context-user-group-id':
    'asks for ids above 10000; each image runs as the user its files belong to (node 1000, postgres and mongo 999, kafka 1000)',
};

const binary = execFileSync('bash', [join(repoRoot, 'scripts/kube-score/install.sh')], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim();

function score(files: string[]): { status: number | null; criticals: string[]; output: string } {
  const ignores = Object.keys(IGNORED).flatMap((check) => ['--ignore-test', check]);
  const run = spawnSync(binary, ['score', '--output-format', 'ci', ...ignores, ...files], { encoding: 'utf8' });
  const output = run.stdout + run.stderr;
  return { status: run.status, criticals: output.split('\n').filter((line) => line.startsWith('[CRITICAL]')), output };
}

const manifests = readdirSync(kubeDir)
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => join(kubeDir, file));
const scratch = mkdtempSync(join(tmpdir(), 'kube-score-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('kube-score on kube/', () => {
  test('finds nothing critical', () => {
    const { status, criticals, output } = score(manifests);
    console.log(
      output
        .split('\n')
        .filter((line) => line.startsWith('[WARNING]'))
        .join('\n'),
    );
    assert.deepEqual(criticals, []);
    assert.equal(status, 0);
  });

  test('a container without an ephemeral-storage limit is critical', () => {
    const broken = join(scratch, '30-command.yaml');
    const text = readFileSync(join(kubeDir, '30-command.yaml'), 'utf8');
    writeFileSync(broken, text.replace(/\n\s+ephemeral-storage: .*/g, ''));
    const { status, criticals } = score([broken]);
    assert.ok(
      criticals.some((line) => line.includes('Ephemeral Storage limit is not set')),
      criticals.join('\n'),
    );
    assert.equal(status, 1);
  });
});
