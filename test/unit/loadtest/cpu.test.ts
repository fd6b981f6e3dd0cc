import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CpuGroup,
  CpuLedger,
  CpuRun,
  cpuUsage,
  type GroupTicks,
  groupOfBackend,
  type ProcessReader,
  type Reading,
} from '../../../bench/cpu.ts';
import { COMMAND_APPLICATIONS, cpuGroups, type WatchedPids } from '../../../bench/cpu-groups.ts';

const reading = (group: string, pid: number, ticks: number, startTime = 1): Reading => ({
  group,
  stat: { pid, comm: 'x', startTime, ticks },
});

describe('CpuLedger', () => {
  test('counts from the opening reading to the last', () => {
    const ledger = new CpuLedger();
    ledger.record([reading('service', 10, 1000)]);
    ledger.record([reading('service', 10, 1040)]);
    ledger.record([reading('service', 10, 1100)]);
    assert.deepEqual(ledger.totals().get('service'), { ticks: 100, processes: 1 });
  });

  test('a backend born during the measurement counts from zero', () => {
    const ledger = new CpuLedger();
    ledger.record([reading('backends', 20, 500)]);
    ledger.record([reading('backends', 20, 520), reading('backends', 21, 7)]);
    ledger.record([reading('backends', 20, 530), reading('backends', 21, 12)]);
    assert.deepEqual(ledger.totals().get('backends'), { ticks: 30 + 12, processes: 2 });
  });

  test('a backend that ended keeps what it used until its last reading', () => {
    const ledger = new CpuLedger();
    ledger.record([reading('backends', 20, 500), reading('backends', 21, 100)]);
    ledger.record([reading('backends', 20, 510), reading('backends', 21, 160)]);
    ledger.record([reading('backends', 20, 515)]);
    assert.deepEqual(ledger.totals().get('backends'), { ticks: 15 + 60, processes: 2 });
  });

  test('a recycled pid is a new process', () => {
    const ledger = new CpuLedger();
    ledger.record([reading('backends', 20, 500, 1)]);
    ledger.record([reading('backends', 20, 505, 1)]);
    ledger.record([reading('backends', 20, 3, 99)]);
    assert.deepEqual(ledger.totals().get('backends'), { ticks: 5 + 3, processes: 2 });
  });

  test('keeps groups apart', () => {
    const ledger = new CpuLedger();
    ledger.record([reading('a', 1, 10), reading('b', 2, 10)]);
    ledger.record([reading('a', 1, 15), reading('b', 2, 30)]);
    assert.deepEqual(Object.fromEntries(ledger.totals()), {
      a: { ticks: 5, processes: 1 },
      b: { ticks: 20, processes: 1 },
    });
  });
});

describe('groupOfBackend', () => {
  // Client processes: the command service 100, the query service 101, FerretDB 300.
  const groups: CpuGroup[] = [
    {
      name: 'command backends',
      own: true,
      select: { database: 'catalog', applications: COMMAND_APPLICATIONS, client: 100 },
    },
    {
      name: 'query backends',
      own: false,
      select: { database: 'catalog', applications: ['cqrs-catalog-query'], client: 101 },
    },
    { name: 'FerretDB backends', own: false, select: { database: 'ferretdb', client: 300 } },
    { name: 'command service', own: true, select: { pid: 100 } },
  ];
  const clientPorts = new Map([
    [100, new Set([50001, 50002])],
    [101, new Set([50101])],
    [300, new Set([50301, 50302])],
  ]);
  const of = (database: string | null, application: string | null, clientPort: number | null) =>
    groupOfBackend({ pid: 1, database, application, clientPort }, groups, clientPorts);

  test('matches an application prefix of the database, from the client process', () => {
    assert.equal(of('catalog', 'cqrs-catalog-command', 50001), 'command backends');
    assert.equal(of('catalog', 'cqrs-catalog-command-committer', 50002), 'command backends');
    assert.equal(of('catalog', 'cqrs-catalog-worker', 50001), 'command backends');
    assert.equal(of('catalog', 'cqrs-catalog-relay', 50002), 'command backends');
    assert.equal(of('catalog', 'cqrs-catalog-query', 50101), 'query backends');
    assert.equal(of('ferretdb', 'FerretDB', 50301), 'FerretDB backends');
    assert.equal(of('ferretdb', null, 50302), 'FerretDB backends');
  });

  test('leaves out other names, other databases and other instances of the same service', () => {
    assert.equal(of('catalog', 'bench-cpu-sampler', 50001), undefined);
    assert.equal(of('catalog', 'naive-crud', 50001), undefined);
    assert.equal(of('catalog', null, 50001), undefined);
    assert.equal(of('postgres', 'cqrs-catalog-command', 50001), undefined);
    assert.equal(of('ferretdb', 'FerretDB', 50001), undefined);
    assert.equal(of('catalog', 'cqrs-catalog-command', 60000), undefined, 'a second command service');
    assert.equal(of('catalog', 'cqrs-catalog-command', null), undefined, 'a Unix socket');
  });
});

describe('cpuUsage', () => {
  const groups: CpuGroup[] = [
    { name: 'service', own: true, select: { pid: 1 } },
    { name: 'backends', own: true, select: { database: 'catalog', client: 1 } },
    { name: 'broker', own: false, select: { pid: 2 } },
    { name: 'never seen', own: false, select: { database: 'other', client: 1 } },
  ];
  const ticks = (entries: Record<string, number>) =>
    new Map<string, GroupTicks>(Object.entries(entries).map(([name, t]) => [name, { ticks: t, processes: 1 }]));

  test('turns ticks into ms per request, and sums the own and the whole figures with the catch-up', () => {
    const usage = cpuUsage(
      groups,
      {
        window: ticks({ service: 50, backends: 30, broker: 20 }),
        total: ticks({ service: 52, backends: 30, broker: 40 }),
        seconds: 3,
        catchUpSeconds: 1.5,
      },
      1000,
      100,
    );
    assert.ok(usage);
    assert.equal(usage.requests, 1000);
    assert.equal(usage.seconds, 3);
    assert.equal(usage.catchUpSeconds, 1.5);
    assert.deepEqual(
      usage.processes.map((p) => [p.name, p.own, p.ms, p.msPerRequest, p.catchUpMs, p.catchUpMsPerRequest]),
      [
        ['service', true, 500, 0.5, 20, 0.02],
        ['backends', true, 300, 0.3, 0, 0],
        ['broker', false, 200, 0.2, 200, 0.2],
      ],
    );
    assert.ok(Math.abs(usage.ownMsPerRequest - 0.82) < 1e-9, String(usage.ownMsPerRequest));
    assert.ok(Math.abs(usage.pipelineMsPerRequest - 1.22) < 1e-9, String(usage.pipelineMsPerRequest));
  });

  test('gives no figure for a run without answers', () => {
    const window = ticks({ service: 250 });
    assert.equal(cpuUsage(groups, { window, total: window, seconds: 2 }, 0, 100), undefined);
  });

  test('has no catch-up fields without a catch-up, and honours the clock tick rate', () => {
    const window = ticks({ service: 250 });
    const usage = cpuUsage(groups, { window, total: window, seconds: 2 }, 500, 250);
    assert.ok(usage);
    assert.equal(usage.catchUpSeconds, undefined);
    assert.deepEqual(usage.processes, [{ name: 'service', own: true, processes: 1, ms: 1000, msPerRequest: 2 }]);
    assert.equal(usage.ownMsPerRequest, 2);
    assert.equal(usage.pipelineMsPerRequest, 2);
  });
});

describe('CpuRun', () => {
  /** A reader whose processes use `step` ticks between reads; pid 3 appears at the third read. */
  function fakeReader(step: number): ProcessReader & { reads: number } {
    return {
      ticksPerSecond: 100,
      reads: 0,
      async read() {
        this.reads++;
        const readings = [reading('service', 1, 1000 + this.reads * step)];
        if (this.reads >= 3) readings.push(reading('backends', 3, (this.reads - 2) * step));
        return readings;
      },
    };
  }
  const groups: CpuGroup[] = [
    { name: 'service', own: true, select: { pid: 1 } },
    { name: 'backends', own: true, select: { database: 'catalog', client: 1 } },
  ];

  test('splits the measured run from the catch-up after lap()', async () => {
    const reader = fakeReader(10);
    const run = await CpuRun.start(reader, groups, 60_000);
    await run.lap();
    const usage = await run.stop(10);
    assert.ok(usage);
    assert.equal(reader.reads, 3);
    const service = usage.processes.find((p) => p.name === 'service');
    assert.equal(service?.ms, 100);
    assert.equal(service?.catchUpMs, 100);
    const backends = usage.processes.find((p) => p.name === 'backends');
    assert.equal(backends?.ms, 0);
    assert.equal(backends?.catchUpMs, 100);
    assert.equal(usage.ownMsPerRequest, 30);
    assert.ok(usage.catchUpSeconds !== undefined);
  });

  test('without lap() everything is the measured run', async () => {
    const run = await CpuRun.start(fakeReader(10), groups, 60_000);
    const usage = await run.stop(4);
    assert.ok(usage);
    assert.equal(usage.catchUpSeconds, undefined);
    assert.deepEqual(
      usage.processes.map((p) => [p.name, p.ms]),
      [['service', 100]],
    );
  });

  test('samples in between, so a backend that comes and goes is counted', async () => {
    let reads = 0;
    const reader: ProcessReader = {
      ticksPerSecond: 100,
      async read() {
        reads++;
        // pid 7 lives only between the opening and the closing read
        return reads === 1 || reads > 3 ? [] : [reading('backends', 7, reads * 5)];
      },
    };
    const run = await CpuRun.start(reader, groups, 20);
    await new Promise((done) => setTimeout(done, 150));
    const usage = await run.stop(1);
    assert.ok(usage);
    assert.ok(reads >= 4, `${reads} reads`);
    assert.equal(usage.processes.find((p) => p.name === 'backends')?.ms, 150);
  });

  test('a failing opening read fails the start', async () => {
    const reader: ProcessReader = {
      ticksPerSecond: 100,
      read: () => Promise.reject(new Error('database down')),
    };
    await assert.rejects(CpuRun.start(reader, groups), /database down/);
  });
});

describe('cpuGroups', () => {
  const pids: WatchedPids = {
    command: 100,
    query: 101,
    brokers: [
      { name: 'kafka-1', pid: 201 },
      { name: 'kafka-2', pid: 202 },
      { name: 'kafka-3', pid: undefined },
    ],
    ferretdb: 300,
    naive: 400,
    trivial: 500,
  };
  const databases = { catalog: 'catalog', ferretdb: 'ferretdb' };
  const own = (groups: CpuGroup[]) => groups.filter((g) => g.own).map((g) => g.name);

  test('our writes: the command service and its backends are ours, the rest is pipeline', () => {
    const { groups, missing } = cpuGroups('ours', 'command', pids, databases);
    assert.deepEqual(own(groups), ['command service', 'command backends']);
    assert.deepEqual(
      groups.map((g) => g.name),
      [
        'command service',
        'command backends',
        'kafka-1',
        'kafka-2',
        'query service',
        'query backends',
        'FerretDB',
        'FerretDB backends',
      ],
    );
    assert.deepEqual(groups[0]?.select, { pid: 100 });
    assert.deepEqual(groups[1]?.select, { database: 'catalog', applications: COMMAND_APPLICATIONS, client: 100 });
    assert.deepEqual(groups[5]?.select, {
      database: 'catalog',
      applications: ['cqrs-catalog-query'],
      client: 101,
    });
    assert.deepEqual(groups[7]?.select, { database: 'ferretdb', client: 300 });
    assert.deepEqual(missing, ['kafka-3']);
  });

  test('our reads: the query service and FerretDB with its backends are ours', () => {
    const { groups } = cpuGroups('ours', 'query', pids, databases);
    assert.deepEqual(own(groups), ['query service', 'query backends', 'FerretDB', 'FerretDB backends']);
  });

  test('the naive baseline is its process and its named backends; the trivial one its process', () => {
    const naive = cpuGroups('naive', 'command', pids, databases).groups;
    assert.deepEqual(naive, [
      { name: 'naive service', own: true, select: { pid: 400 } },
      {
        name: 'naive backends',
        own: true,
        select: { database: 'catalog', applications: ['naive-crud'], client: 400 },
      },
    ]);
    assert.deepEqual(cpuGroups('trivial', 'query', pids, databases).groups, [
      { name: 'trivial service', own: true, select: { pid: 500 } },
    ]);
  });

  test('names what is not running, and looks for no backends of it', () => {
    const { groups, missing } = cpuGroups(
      'ours',
      'command',
      { ...pids, command: undefined, ferretdb: undefined },
      databases,
    );
    assert.deepEqual(missing, ['command service', 'kafka-3', 'FerretDB']);
    assert.deepEqual(
      groups.map((g) => g.name),
      ['kafka-1', 'kafka-2', 'query service', 'query backends'],
    );
  });
});
