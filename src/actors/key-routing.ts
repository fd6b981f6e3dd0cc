/** FNV-1a, 32 bits: cheap, stable across processes and restarts, well spread over UUID strings. */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The slot (worker index) that owns a key among `slots` workers. */
export const slotOf = (key: string, slots: number): number => hashKey(key) % slots;
