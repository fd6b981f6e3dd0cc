import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventStreamHub, sseEvent, sseRetry } from '../../../src/http/query/event-stream.ts';

const decode = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

describe('Server-Sent Events', () => {
  test('an event is one data line, whatever newlines its strings hold', () => {
    const frame = decode(sseEvent('status', { name: 'two\nlines', markup: '<b>' }, '7'));
    assert.equal(frame, 'id: 7\nevent: status\ndata: {"name":"two\\nlines","markup":"<b>"}\n\n');
    assert.equal(decode(sseRetry(2000)), 'retry: 2000\n\n');
  });

  test('every stream starts with its initial frames and then gets the very same bytes of each broadcast', async () => {
    const closed: string[] = [];
    const hub = new EventStreamHub({ maxStreams: 10, maxQueuedBytes: 1024, onClose: (why) => closed.push(why) });
    const first = hub.open([sseRetry(1000)])?.getReader();
    const second = hub.open([])?.getReader();
    assert.ok(first && second);
    const frame = sseEvent('status', { lag: 3 });
    hub.broadcast(frame);
    assert.equal(decode((await first.read()).value), 'retry: 1000\n\n');
    const a = (await first.read()).value;
    const b = (await second.read()).value;
    assert.equal(a, frame, 'not copied per stream');
    assert.equal(b, frame);
    await first.cancel();
    assert.equal(hub.size, 1);
    assert.deepEqual(closed, ['client']);
  });

  test('a client that stops reading is dropped once its backlog would pass the bound; the others keep theirs', async () => {
    const closed: string[] = [];
    const hub = new EventStreamHub({ maxStreams: 10, maxQueuedBytes: 100, onClose: (why) => closed.push(why) });
    const slow = hub.open([])?.getReader();
    const reading = hub.open([])?.getReader();
    assert.ok(slow && reading);
    const frame = new Uint8Array(40);
    for (let i = 0; i < 3; i++) {
      hub.broadcast(frame);
      await reading.read();
    }
    assert.deepEqual(closed, ['slow']);
    assert.equal(hub.size, 1);
    await assert.rejects(slow.read(), /does not keep up/, 'its connection is ended, backlog and all');
  });

  test('no more than maxStreams are open, and closeAll ends every stream', async () => {
    const hub = new EventStreamHub({ maxStreams: 1, maxQueuedBytes: 100 });
    const only = hub.open([])?.getReader();
    assert.ok(only);
    assert.equal(hub.open([]), undefined);
    hub.closeAll();
    assert.equal((await only.read()).done, true);
    assert.equal(hub.size, 0);
  });
});
