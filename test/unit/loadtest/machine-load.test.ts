import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  describeMachineLoad,
  machineLoadBetween,
  parseCpuPressure,
  parseCpuTimes,
} from '../../../bench/machine-load.ts';

const stat = (user: number, idle: number, steal = 0) =>
  [
    `cpu  ${user} 0 100 ${idle} 50 0 10 ${steal} 0 0`,
    `cpu0 ${user / 2} 0 50 ${idle / 2} 25 0 5 0 0 0`,
    'intr 12345',
  ].join('\n');

describe('the machine load in the bench', () => {
  test("counts user, system, softirq and steal as busy, idle and iowait as not; the per-core lines don't count", () => {
    assert.deepEqual(parseCpuTimes(stat(1000, 4000, 40)), { busy: 1150, total: 5200 });
  });

  test('refuses a /proc/stat without its aggregate line', () => {
    assert.throws(() => parseCpuTimes('cpu0 1 2 3 4'), /no aggregate cpu line/);
  });

  test("reads PSI's cumulative `some` total, not the `full` one", () => {
    const text =
      'some avg10=58.46 avg60=72.02 avg300=54.70 total=602569064\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7';
    assert.equal(parseCpuPressure(text), 602_569_064);
    assert.equal(parseCpuPressure('full avg10=0.00 total=7'), undefined);
  });

  test('turns two samples into the busy share and the share of time some task waited for a core', () => {
    const load = machineLoadBetween(
      { atMs: 1_000, cpu: { busy: 1_000, total: 5_000 }, pressureUs: 10_000_000 },
      { atMs: 11_000, cpu: { busy: 2_900, total: 7_000 }, pressureUs: 16_000_000 },
    );
    assert.deepEqual(load, { seconds: 10, busy: 0.95, pressure: 0.6 });
    assert.equal(
      describeMachineLoad(load as NonNullable<typeof load>),
      'the machine meanwhile, every process on it: cores 95 % busy (/proc/stat); some task waited for a core 60 % of the time (/proc/pressure/cpu)',
    );
  });

  test('says so when the kernel has no pressure figures, and gives nothing for an empty interval', () => {
    const before = { atMs: 0, cpu: { busy: 0, total: 100 }, pressureUs: undefined };
    const load = machineLoadBetween(before, { atMs: 1_000, cpu: { busy: 50, total: 300 }, pressureUs: 5 });
    assert.deepEqual(load, { seconds: 1, busy: 0.25 });
    assert.match(describeMachineLoad(load as NonNullable<typeof load>), /no CPU pressure figures/);
    assert.equal(machineLoadBetween(before, before), undefined);
  });
});
