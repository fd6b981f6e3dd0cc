import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { leaseValidForMs, MembershipLease } from '../../../src/projections/membership-lease.ts';
import { consumerConfig } from '../../../src/projections/runtime.ts';

describe('membership lease', () => {
  test('valid after a confirmation for most of a session timeout, then not until confirmed again', () => {
    let now = 1_000_000;
    const lease = new MembershipLease(10_000, () => now);
    assert.equal(lease.valid, false, 'never confirmed');
    lease.confirm();
    now += 8_999;
    assert.equal(lease.valid, true);
    now += 1;
    assert.equal(lease.valid, false, 'a heartbeat 9 s old may belong to an expired session');
    lease.confirm();
    assert.equal(lease.valid, true);
  });

  test('a heartbeat counts from when it was sent, however late its answer is read', () => {
    let now = 100_000;
    const lease = new MembershipLease(10_000, () => now);
    const sentAt = now;
    now += 30_000; // frozen with the answer in the socket buffer
    lease.confirm(sentAt);
    assert.equal(lease.valid, false);
    lease.confirm(now);
    lease.confirm(sentAt);
    assert.equal(lease.valid, true, 'an older confirmation read later does not shorten a newer one');
  });

  test('a revoke ends it at once', () => {
    let now = 0;
    const lease = new MembershipLease(10_000, () => now);
    lease.confirm();
    now += 1;
    lease.revoke();
    assert.equal(lease.valid, false);
  });

  test('an idle member heartbeats well inside its lease: its fetch wait and heartbeat interval fit in half of it', () => {
    for (const sessionTimeoutMs of [6000, 10_000, 30_000, 300_000]) {
      const config = consumerConfig({ groupId: 'g', sessionTimeoutMs, maxBytesPerPartition: undefined });
      // kafkajs heartbeats between fetches, so a quiet member's heartbeats are a fetch wait apart.
      const gap = (config.maxWaitTimeInMs ?? 5000) + (config.heartbeatInterval ?? 3000);
      assert.ok(
        gap <= leaseValidForMs(sessionTimeoutMs) / 2,
        `session ${sessionTimeoutMs} ms: heartbeats ${gap} ms apart`,
      );
    }
  });
});
