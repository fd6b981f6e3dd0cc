import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, test } from 'node:test';
import { parseNetTcp, parseProcStat, socketInodes, tcpPorts } from '../../../bench/proc.ts';

/** A /proc/<pid>/stat line as the kernel writes it: 52 fields, utime/stime/starttime at 14, 15, 22. */
function statLine(pid: number, comm: string, utime: number, stime: number, startTime = 5000): string {
  const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
  fields[0] = 'S';
  fields[14 - 3] = String(utime);
  fields[15 - 3] = String(stime);
  fields[22 - 3] = String(startTime);
  return `${pid} (${comm}) ${fields.join(' ')}\n`;
}

describe('parseProcStat', () => {
  test('sums utime and stime and reads the start time', () => {
    assert.deepEqual(parseProcStat(statLine(6191, 'node', 1234, 56, 9876)), {
      pid: 6191,
      comm: 'node',
      startTime: 9876,
      ticks: 1290,
    });
  });

  test('counts fields from the last parenthesis, whatever the name holds', () => {
    for (const comm of ['Web Content', 'a) S 1 2 (b', '((x))', ') 7 8 9 (', 'kworker/0:1-events']) {
      const stat = parseProcStat(statLine(42, comm, 700, 11, 321));
      assert.equal(stat.comm, comm);
      assert.equal(stat.ticks, 711, comm);
      assert.equal(stat.startTime, 321, comm);
    }
  });

  test('reads this very process from /proc', () => {
    const stat = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    assert.equal(stat.pid, process.pid);
    assert.ok(stat.ticks >= 0 && stat.startTime > 0, JSON.stringify(stat));
  });

  test('rejects what is not a stat line', () => {
    assert.throws(() => parseProcStat('no parentheses here'), /not a \/proc/);
    assert.throws(() => parseProcStat('12 (node) S 1 2'), /is not a number/);
  });
});

test('parseNetTcp reads the local port of each socket inode, IPv4 and IPv6', () => {
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const v4 = `${header}   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 24039 1 0000 100 0 0 10 0\n   1: 0100007F:D6F6 0100007F:D589 01 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000 20 4 30 10 -1\n`;
  assert.deepEqual(
    [...parseNetTcp(v4)],
    [
      ['24039', 8080],
      ['31337', 55030],
    ],
  );
  const v6 = `${header}   0: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000 100 0 0 10 0\n`;
  assert.deepEqual([...parseNetTcp(v6)], [['777', 80]]);
  assert.deepEqual([...parseNetTcp(header)], []);
});

test("socketInodes and tcpPorts find this process's client port", async () => {
  const server = net.createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address() as net.AddressInfo;
  const client = net.connect(address.port, '127.0.0.1');
  try {
    await new Promise<void>((done) => client.once('connect', done));
    const inodes = socketInodes(process.pid);
    const ours = [...tcpPorts()].filter(([inode]) => inodes.has(inode)).map(([, port]) => port);
    assert.ok(ours.includes(client.localPort as number), `${client.localPort} in ${ours}`);
    assert.ok(ours.includes(address.port), `${address.port} in ${ours}`);
  } finally {
    client.destroy();
    server.close();
  }
});

test('socketInodes throws for a process it cannot read', () => {
  assert.throws(() => socketInodes(2 ** 22 + 1), /ENOENT/);
});
