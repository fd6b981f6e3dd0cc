import type { Db } from '../infra/mongo.ts';
import { PARKED_EVENTS } from './parked.ts';
import { CATALOG_STATS } from './views/catalog-stats/view.ts';
import { PRICE_HISTORY } from './views/price-history/view.ts';
import { PRODUCT_VERSIONS } from './views/products/versions.ts';
import { PRODUCTS } from './views/products/view.ts';

/**
 * Views come in generations: each generation has its own collections (`products_g3`...) and its own
 * consumer group (`<group>.g3`), and one document names the generation reads and the live projection
 * use. A rebuild fills the next generation from the start of the topic while the current one keeps
 * serving, then switches the pointer; every query-service process follows within a poll interval.
 * The previous generation stays until the next rebuild, so cursors issued against it keep working.
 */
export const GENERATIONS = 'view_generations';
const POINTER_ID = 'pointer';

export interface GenerationPointer {
  current: number;
  previous: number | null;
}

interface PointerDoc extends GenerationPointer {
  _id: string;
  switchedAt: Date;
}

export const VIEW_BASES = [PRODUCTS, PRODUCT_VERSIONS, PRICE_HISTORY, CATALOG_STATS, PARKED_EVENTS] as const;

export interface ViewCollectionNames {
  products: string;
  versions: string;
  history: string;
  stats: string;
  parked: string;
}

export const viewCollectionNames = (generation: number): ViewCollectionNames => ({
  products: `${PRODUCTS}_g${generation}`,
  versions: `${PRODUCT_VERSIONS}_g${generation}`,
  history: `${PRICE_HISTORY}_g${generation}`,
  stats: `${CATALOG_STATS}_g${generation}`,
  parked: `${PARKED_EVENTS}_g${generation}`,
});

export const consumerGroupOf = (baseGroup: string, generation: number): string => `${baseGroup}.g${generation}`;

const pointers = (db: Db) => db.collection<PointerDoc>(GENERATIONS);

/** The pointer, created at generation 1 by whichever process asks first. */
export async function readPointer(db: Db): Promise<GenerationPointer> {
  const found = await pointers(db).findOne({ _id: POINTER_ID });
  if (found) return { current: found.current, previous: found.previous };
  const initial: PointerDoc = { _id: POINTER_ID, current: 1, previous: null, switchedAt: new Date() };
  try {
    await pointers(db).insertOne(initial);
  } catch (error) {
    // Another process created it first (duplicate _id); read what it wrote.
    const again = await pointers(db).findOne({ _id: POINTER_ID });
    if (!again) throw error;
    return { current: again.current, previous: again.previous };
  }
  return { current: 1, previous: null };
}

export async function switchPointer(db: Db, next: number): Promise<GenerationPointer> {
  const { current } = await readPointer(db);
  const pointer: PointerDoc = { _id: POINTER_ID, current: next, previous: current, switchedAt: new Date() };
  await pointers(db).replaceOne({ _id: POINTER_ID }, pointer);
  return { current: next, previous: current };
}

/** Generations that have at least one collection in the database. */
export async function generationsOnDisk(db: Db): Promise<Set<number>> {
  const names = await db.listCollections({}, { nameOnly: true }).toArray();
  const found = new Set<number>();
  for (const { name } of names) {
    const match = /_g(\d+)$/.exec(name);
    if (match && VIEW_BASES.some((base) => name === `${base}${match[0]}`)) found.add(Number(match[1]));
  }
  return found;
}

export async function dropGeneration(db: Db, generation: number): Promise<void> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const name of Object.values(viewCollectionNames(generation))) {
    if (existing.has(name)) await db.dropCollection(name);
  }
}

/** Polls the pointer (FerretDB has no change streams) and tells listeners when it moves. */
export class GenerationWatcher {
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((pointer: GenerationPointer) => void)[] = [];

  private constructor(
    private readonly db: Db,
    public pointer: GenerationPointer,
  ) {}

  static async start(db: Db, intervalMs: number, onError: (error: unknown) => void): Promise<GenerationWatcher> {
    const watcher = new GenerationWatcher(db, await readPointer(db));
    watcher.timer = setInterval(() => watcher.poll().catch(onError), intervalMs);
    watcher.timer.unref();
    return watcher;
  }

  onChange(listener: (pointer: GenerationPointer) => void): void {
    this.listeners.push(listener);
  }

  async poll(): Promise<void> {
    const pointer = await readPointer(this.db);
    if (pointer.current === this.pointer.current && pointer.previous === this.pointer.previous) return;
    this.pointer = pointer;
    for (const listener of this.listeners) listener(pointer);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
