import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { images } from './lib/expectations.ts';
import { repoRoot } from './lib/manifests.ts';

/**
 * In a container Node is PID 1, which ignores every signal it has no handler for: each entry point
 * must handle SIGTERM from its first import on, not only once its graceful shutdown is registered.
 */

const MODULE = './infra/start-up-signals.ts';

/** The first statement of an entry point that is not a comment. */
const firstStatement = (source: string): string =>
  source
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '' && !line.startsWith('//') && !line.startsWith('/*') && !line.startsWith('*')) ?? '';

const handlesSignalsFirst = (source: string): boolean => firstStatement(source) === `import '${MODULE}';`;

describe('SIGTERM from the first line of each entry point', () => {
  for (const { source } of images) {
    test(`${source} imports ${MODULE} before anything else`, () => {
      assert.ok(
        handlesSignalsFirst(readFileSync(join(repoRoot, source), 'utf8')),
        firstStatement(readFileSync(join(repoRoot, source), 'utf8')),
      );
    });
  }

  test('an entry point that registers its handlers only after start-up is reported', () => {
    const late = "import { ActorSystem } from './actors/actor-system.ts';\nimport './infra/start-up-signals.ts';\n";
    assert.equal(handlesSignalsFirst(late), false);
  });

  test('a process still starting ends at SIGTERM with code 143', async () => {
    // A start-up that never ends, as one waiting for a dependency.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import '${join(repoRoot, 'src/infra/start-up-signals.ts')}'; console.log('starting'); setInterval(() => {}, 1000);`,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    assert.equal(chunk.toString().trim(), 'starting');
    child.kill('SIGTERM');
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.deepEqual({ code, signal }, { code: 143, signal: null });
  });
});
