import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAULTS, parseChaosArgs, UsageError } from '../../../scripts/chaos/options.ts';

describe('parseChaosArgs', () => {
  test('defaults: every fault, 3 rounds, full phases, results saved', () => {
    const o = parseChaosArgs([]);
    assert.equal(o.rounds, 3);
    assert.equal(o.quick, false);
    assert.deepEqual(o.faults, [...FAULTS]);
    assert.equal(o.partial, false);
    assert.equal(o.save, true);
    assert.equal(o.verifyWaitMs, 60_000);
  });

  test('--quick: one round each and shorter phases; --rounds still wins', () => {
    const quick = parseChaosArgs(['--quick']);
    const full = parseChaosArgs([]);
    assert.equal(quick.rounds, 1);
    assert.ok(quick.phases.warmMs < full.phases.warmMs);
    assert.ok(quick.phases.afterMs < full.phases.afterMs);
    assert.equal(parseChaosArgs(['--quick', '--rounds', '2']).rounds, 2);
    assert.equal(parseChaosArgs(['--rounds', '5']).rounds, 5);
  });

  test('--only keeps the run order, each fault once, and marks the run partial', () => {
    const o = parseChaosArgs(['--only', 'pg-restart, command-kill,pg-restart']);
    assert.deepEqual(o.faults, ['command-kill', 'pg-restart']);
    assert.equal(o.partial, true);
    assert.equal(parseChaosArgs(['--only', FAULTS.join(',')]).partial, false);
  });

  test('mistakes are usage errors', () => {
    for (const args of [
      ['--only', 'kill-everything'],
      ['--only', ''],
      ['--rounds', '0'],
      ['--rounds', 'three'],
      ['--rounds', '1.5'],
      ['--concurrency', '1000'],
      ['--readers', '-1'],
      ['--nope'],
      ['positional'],
    ]) {
      assert.throws(() => parseChaosArgs(args), UsageError, args.join(' '));
    }
  });

  test('--no-save, --concurrency, --readers and --pause-ms', () => {
    const o = parseChaosArgs(['--no-save', '--concurrency', '8', '--readers', '0', '--pause-ms', '0']);
    assert.equal(o.save, false);
    assert.equal(o.concurrency, 8);
    assert.equal(o.readers, 0);
    assert.equal(o.pauseMs, 0);
    assert.equal(parseChaosArgs([]).readers, 2);
  });
});
