/**
 * The partition a product's events go to, as every producer of the topic computes it (kafkajs's
 * `DefaultPartitioner`, see `createProducer`, which is Java's: murmur2 of the key's UTF-8 bytes,
 * made positive, modulo the partition count): the partition whose actor owns the product's
 * documents. A rebuild that reads the event store instead of the topic stamps each document with
 * it, as the live projection would. Computed here with 32-bit integer arithmetic (`Math.imul`):
 * kafkajs's own murmur2 emulates 64-bit longs and costs several microseconds a key.
 */
export function partitionerFor(partitions: number): (productId: string) => number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`partition count ${partitions}`);
  return (productId) => (murmur2(Buffer.from(productId, 'utf8')) & 0x7fffffff) % partitions;
}

/** Kafka's `Utils.murmur2` (seed 0x9747b28c), as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The last 1-3 bytes, as Kafka's switch falling through from case 3 to case 1.
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= (data[whole + 2] as number) << 16;
    if (tail >= 2) h ^= (data[whole + 1] as number) << 8;
    h ^= data[whole] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}
