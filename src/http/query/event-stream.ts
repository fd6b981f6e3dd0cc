const encoder = new TextEncoder();

/**
 * One Server-Sent Event, encoded once for every stream it goes to. JSON.stringify escapes newlines
 * inside strings, so the data is always a single `data:` line.
 */
export function sseEvent(event: string, data: unknown, id?: string): Uint8Array {
  return encoder.encode(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** How long a browser waits before it reconnects a dropped stream. */
export const sseRetry = (ms: number): Uint8Array => encoder.encode(`retry: ${ms}\n\n`);

export interface EventStreamHubOptions {
  maxStreams: number;
  /** Bytes a stream may have waiting for its client; a client that falls further behind is dropped. */
  maxQueuedBytes: number;
  onOpen?: () => void;
  onClose?: (why: 'client' | 'slow' | 'shutdown') => void;
}

type Controller = ReadableStreamDefaultController<Uint8Array>;

/**
 * Fans the same encoded events out to every open stream. Each stream's queue is bounded in bytes
 * (the HTTP adapter pulls from it only as fast as the socket drains), so a client that stops reading
 * costs at most `maxQueuedBytes` before it is dropped; its browser reconnects on its own.
 */
export class EventStreamHub {
  private readonly streams = new Set<Controller>();

  constructor(private readonly options: EventStreamHubOptions) {}

  get size(): number {
    return this.streams.size;
  }

  /** A new stream that starts with `initial`; undefined when `maxStreams` are open. */
  open(initial: readonly Uint8Array[]): ReadableStream<Uint8Array> | undefined {
    if (this.streams.size >= this.options.maxStreams) return undefined;
    let controller: Controller | undefined;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c;
          this.streams.add(c);
          this.options.onOpen?.();
          for (const frame of initial) c.enqueue(frame);
        },
        cancel: () => {
          if (controller) this.remove(controller, 'client');
        },
      },
      { highWaterMark: this.options.maxQueuedBytes, size: (chunk) => chunk.byteLength },
    );
    return stream;
  }

  broadcast(frame: Uint8Array): void {
    for (const controller of this.streams) {
      if ((controller.desiredSize ?? 0) < frame.byteLength) {
        this.remove(controller, 'slow');
        controller.error(new Error('the client does not keep up with the event stream'));
      } else {
        controller.enqueue(frame);
      }
    }
  }

  /** Ends every stream, so that the server can close without waiting for them. */
  closeAll(): void {
    for (const controller of this.streams) {
      this.remove(controller, 'shutdown');
      controller.close();
    }
  }

  private remove(controller: Controller, why: 'client' | 'slow' | 'shutdown'): void {
    if (this.streams.delete(controller)) this.options.onClose?.(why);
  }
}
