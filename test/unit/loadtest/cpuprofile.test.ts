import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CallFrame,
  type CpuProfile,
  describeProfile,
  frameName,
  summarizeProfile,
  threadOf,
} from '../../../bench/cpuprofile.ts';

const ROOT = '/work/main';
const frame = (functionName: string, url = '', lineNumber = -1): CallFrame => ({ functionName, url, lineNumber });

describe('frameName', () => {
  test('names a function by its file relative to the repository, without tsx-generated line numbers', () => {
    assert.equal(
      frameName(frame('decide', 'file:///work/main/src/domain/product/decider.ts', 1), ROOT),
      'decide src/domain/product/decider.ts',
    );
    assert.equal(frameName(frame('run', 'file:///work/main/bench/x.mjs', 41), ROOT), 'run bench/x.mjs:42');
  });

  test('shortens dependencies to node_modules/ and keeps node: urls', () => {
    assert.equal(
      frameName(frame('parse', 'file:///work/main/node_modules/postgres/src/connection.js', 9), ROOT),
      'parse node_modules/postgres/src/connection.js:10',
    );
    assert.equal(frameName(frame('', 'node:internal/timers', 0), ROOT), '(anonymous) node:internal/timers:1');
  });

  test('keeps the special frames as they are', () => {
    assert.equal(frameName(frame('(garbage collector)'), ROOT), '(garbage collector)');
    assert.equal(frameName(frame(''), ROOT), '(anonymous)');
  });
});

describe('summarizeProfile', () => {
  // hot appears under two parents: one entry; a sample lasts until the next one, the last until endTime.
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('hot', 'file:///work/main/src/a.js', 0) },
      { id: 4, callFrame: frame('caller', 'file:///work/main/src/b.js', 4) },
      { id: 5, callFrame: frame('hot', 'file:///work/main/src/a.js', 0) },
      { id: 6, callFrame: frame('(garbage collector)') },
    ],
    startTime: 1_000_000,
    endTime: 1_020_000,
    samples: [2, 3, 5, 4, 6, 2],
    timeDeltas: [0, 4000, 3000, 2000, 1000, 1000],
  };
  // stamps 1_000_000, 1_004_000, 1_007_000, 1_009_000, 1_010_000, 1_011_000 (last until 1_020_000)

  test('adds up self time per function, idle apart', () => {
    const summary = summarizeProfile(profile, ROOT);
    assert.equal(summary.totalMs, 20);
    assert.equal(summary.idleMs, 4 + 9);
    assert.deepEqual(
      summary.top.map((entry) => [entry.name, entry.ms]),
      [
        ['hot src/a.js:1', 3 + 2],
        ['caller src/b.js:5', 1],
        ['(garbage collector)', 1],
      ],
    );
    assert.equal(summary.top[0]?.share, 0.25);
  });

  test('keeps only the top entries', () => {
    assert.deepEqual(
      summarizeProfile(profile, ROOT, 1).top.map((entry) => entry.name),
      ['hot src/a.js:1'],
    );
  });

  test('describes the idle share and the top self times', () => {
    const lines = describeProfile(summarizeProfile(profile, ROOT));
    assert.equal(lines[0], '0.0 s profiled, 65.0 % idle; top self time:');
    assert.match(lines[1] ?? '', /^ +5 ms +25\.0 % {2}hot src\/a\.js:1$/);
    assert.equal(lines.length, 4);
  });
});

test('threadOf tells the main thread, the workers and the module loader thread apart', () => {
  const plain: CpuProfile = { nodes: [], startTime: 0, endTime: 0, samples: [], timeDeltas: [] };
  const loader: CpuProfile = {
    ...plain,
    nodes: [{ id: 1, callFrame: frame('', 'node:internal/modules/esm/worker', 0) }],
  };
  assert.equal(threadOf('/x/CPU.20261130.042701.8336.0.001.cpuprofile', plain), 'main thread');
  assert.equal(threadOf('CPU.20261130.042701.8336.12.003.cpuprofile', plain), 'worker thread 12');
  assert.equal(
    threadOf('CPU.20261130.042701.8336.1.002.cpuprofile', loader),
    'worker thread 1, module loader hooks (tsx)',
  );
  assert.equal(threadOf('profile.cpuprofile', plain), 'unknown thread');
});
