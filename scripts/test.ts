import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './stack/paths.ts';
import { say } from './stack/progress.ts';
import { serviceComponents, serviceEnv } from './stack/services.ts';
import { down, up } from './stack/stack.ts';

/**
 * `npm test`: type check, lint, then every unit and integration test on node:test through tsx,
 * against the local stack. Starts the stack's servers if they are not running and stops only what
 * it started. Services that `npm run up` started are stopped for the run and started again after
 * it: the tests start services of their own, and a running command service would hold the outbox
 * relay's leadership and publish their events to its own topic. `npm test -- --unit` runs the unit
 * tests alone (no stack); other arguments filter test files by path.
 */

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function testFiles(dir: string): string[] {
  const abs = join(repoRoot, dir);
  try {
    statSync(abs);
  } catch {
    return [];
  }
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => relative(repoRoot, join(abs, f)))
    .sort();
}

function step(name: string, command: string, commandArgs: string[]): void {
  say('test', name);
  const result = spawnSync(command, commandArgs, { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\n${name} failed`);
    process.exit(1);
  }
}

async function main(): Promise<number> {
  step('type check (tsc --noEmit)', 'npx', ['tsc', '--noEmit']);
  step('lint and format check (biome)', 'npx', ['biome', 'check', '.']);

  const unit = [...testFiles('test/unit'), ...testFiles('src')];
  const integration = unitOnly ? [] : testFiles('test/integration');
  const files = [...unit, ...integration].filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)));
  if (files.length === 0) {
    console.error('no test files matched');
    return 1;
  }

  const started = integration.length > 0 ? await up({ services: false }) : [];
  const paused = integration.length > 0 ? serviceComponents.filter((c) => c.pid() !== undefined) : [];
  if (paused.length > 0) {
    say('test', `stopping ${paused.map((c) => c.name).join(' and ')} for the run (started again after it)`);
    await down(paused);
  }
  try {
    say('test', `running ${files.length} test files`);
    // One file at a time: integration tests share the stack, and some stop a broker on purpose.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', ...files],
      {
        cwd: repoRoot,
        stdio: 'inherit',
        env: { ...process.env, ...serviceEnv(), LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
      },
    );
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    for (const service of paused) await service.start();
    if (started.length > 0) {
      say('test', `stopping what the tests started: ${started.map((c) => c.name).join(', ')}`);
      await down(started);
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
