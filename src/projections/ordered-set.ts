/**
 * A B+tree of distinct items under a total order: insert, delete and seek in O(log n), then walk
 * either way one item at a time. Optionally each node keeps the largest `weight` of its subtree, so
 * a walk can skip every subtree holding nothing heavier than a threshold (the list index uses it to
 * skip superseded versions that ended before a snapshot) without looking at their items.
 */

const MAX_ITEMS = 64;
const MIN_ITEMS = 16;

class Leaf<T> {
  readonly leaf = true;
  constructor(
    public items: T[],
    public max = Number.NEGATIVE_INFINITY,
  ) {}
  get count(): number {
    return this.items.length;
  }
  get last(): T {
    return this.items[this.items.length - 1] as T;
  }
}

class Branch<T> {
  readonly leaf = false;
  constructor(
    public children: Node<T>[],
    public max = Number.NEGATIVE_INFINITY,
  ) {}
  get count(): number {
    return this.children.length;
  }
  get last(): T {
    return (this.children[this.children.length - 1] as Node<T>).last;
  }
}

type Node<T> = Leaf<T> | Branch<T>;

export type Direction = 1 | -1;

export interface OrderedSetOptions<T> {
  /** Kept as a per-subtree maximum, for `Walk`'s `heavierThan`. */
  weight?: (item: T) => number;
}

export class OrderedSet<T> {
  private root: Node<T> = new Leaf<T>([]);
  private items = 0;
  private readonly weight: ((item: T) => number) | undefined;

  constructor(
    private readonly compare: (a: T, b: T) => number,
    options: OrderedSetOptions<T> = {},
  ) {
    this.weight = options.weight;
  }

  get size(): number {
    return this.items;
  }

  /** Adds `item`; false (and nothing changes) when an item comparing equal is already there. */
  add(item: T): boolean {
    const split = this.insertInto(this.root, item);
    if (split === false) return false;
    if (split) this.root = this.withMax(new Branch<T>([this.root, split]));
    this.items += 1;
    return true;
  }

  /** Removes the item comparing equal to `item`; false when there is none. */
  delete(item: T): boolean {
    if (!this.deleteFrom(this.root, item)) return false;
    this.items -= 1;
    while (!this.root.leaf && this.root.count === 1) this.root = this.root.children[0] as Node<T>;
    return true;
  }

  /**
   * A walk in `direction` starting at the first item (in that direction) for which `started` holds;
   * `started` must be monotone along the direction (false, ..., false, true, ..., true). With
   * `heavierThan`, only items whose weight exceeds it are visited.
   */
  walk(direction: Direction, started: (item: T) => boolean, heavierThan?: number): Walk<T> {
    const skip = this.weight && heavierThan !== undefined ? { weight: this.weight, heavierThan } : undefined;
    return new Walk(this.root, direction, started, skip);
  }

  /** Every item in order (for tests and checks). */
  toArray(): T[] {
    const out: T[] = [];
    const walk = this.walk(1, () => true);
    for (let item = walk.current; item !== undefined; item = walk.advance()) out.push(item);
    return out;
  }

  private firstNotBefore(items: readonly T[], item: T): number {
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(items[mid] as T, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The child that holds `item` or would: the first whose last item is not below it, else the last. */
  private childFor(branch: Branch<T>, item: T): number {
    const { children } = branch;
    let lo = 0;
    let hi = children.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare((children[mid] as Node<T>).last, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private withMax<N extends Node<T>>(node: N): N {
    const weight = this.weight;
    if (!weight) return node;
    let max = Number.NEGATIVE_INFINITY;
    if (node.leaf) for (const item of node.items) max = Math.max(max, weight(item));
    else for (const child of node.children) max = Math.max(max, child.max);
    node.max = max;
    return node;
  }

  /** Inserts below `node`: false for a duplicate, a new right sibling when `node` split, else undefined. */
  private insertInto(node: Node<T>, item: T): Node<T> | false | undefined {
    if (node.leaf) {
      const at = this.firstNotBefore(node.items, item);
      if (at < node.items.length && this.compare(node.items[at] as T, item) === 0) return false;
      node.items.splice(at, 0, item);
      if (this.weight) node.max = Math.max(node.max, this.weight(item));
      if (node.items.length <= MAX_ITEMS) return undefined;
      const right = new Leaf(node.items.splice(node.items.length >>> 1));
      this.withMax(node);
      return this.withMax(right);
    }
    const at = this.childFor(node, item);
    const split = this.insertInto(node.children[at] as Node<T>, item);
    if (split === false) return false;
    if (this.weight) node.max = Math.max(node.max, this.weight(item));
    if (!split) return undefined;
    node.children.splice(at + 1, 0, split);
    if (node.children.length <= MAX_ITEMS) return undefined;
    const right = new Branch(node.children.splice(node.children.length >>> 1));
    this.withMax(node);
    return this.withMax(right);
  }

  private deleteFrom(node: Node<T>, item: T): boolean {
    if (node.leaf) {
      const at = this.firstNotBefore(node.items, item);
      if (at >= node.items.length || this.compare(node.items[at] as T, item) !== 0) return false;
      node.items.splice(at, 1);
      this.withMax(node);
      return true;
    }
    const at = this.childFor(node, item);
    const child = node.children[at] as Node<T>;
    if (!this.deleteFrom(child, item)) return false;
    if (child.count < MIN_ITEMS && node.children.length > 1) this.rebalance(node, at);
    this.withMax(node);
    return true;
  }

  /** Merges an underfull child with a neighbour, or shares their entries evenly when both do not fit in one. */
  private rebalance(parent: Branch<T>, at: number): void {
    const left = at > 0 ? at - 1 : at;
    const a = parent.children[left] as Node<T>;
    const b = parent.children[left + 1] as Node<T>;
    if (a.leaf && b.leaf) {
      const all = a.items.concat(b.items);
      if (all.length <= MAX_ITEMS) {
        a.items = all;
        parent.children.splice(left + 1, 1);
      } else {
        const half = all.length >>> 1;
        a.items = all.slice(0, half);
        b.items = all.slice(half);
        this.withMax(b);
      }
      this.withMax(a);
      return;
    }
    const ab = a as Branch<T>;
    const bb = b as Branch<T>;
    const all = ab.children.concat(bb.children);
    if (all.length <= MAX_ITEMS) {
      ab.children = all;
      parent.children.splice(left + 1, 1);
    } else {
      const half = all.length >>> 1;
      ab.children = all.slice(0, half);
      bb.children = all.slice(half);
      this.withMax(bb);
    }
    this.withMax(ab);
  }
}

interface Frame<T> {
  node: Branch<T>;
  index: number;
}

/**
 * A position in an `OrderedSet` and the way on from it. `current` is the item there (undefined once
 * past the end). The set must not change while a walk is in use.
 */
export class Walk<T> {
  current: T | undefined;
  private readonly stack: Frame<T>[] = [];
  private leaf: Leaf<T> | undefined;
  private position = 0;

  constructor(
    root: Node<T>,
    private readonly direction: Direction,
    started: (item: T) => boolean,
    /** Items of this weight or less, and subtrees holding nothing heavier, are passed over. */
    private readonly skip: { weight: (item: T) => number; heavierThan: number } | undefined,
  ) {
    let node = root;
    while (!node.leaf) {
      const index = this.seekChild(node, started);
      this.stack.push({ node, index });
      node = node.children[index] as Node<T>;
    }
    this.leaf = node;
    this.position = this.seekItem(node.items, started);
    this.settle();
  }

  /** Moves one item on and returns it. */
  advance(): T | undefined {
    if (this.current === undefined) return undefined;
    this.position += this.direction;
    this.settle();
    return this.current;
  }

  private light(node: Node<T>): boolean {
    return this.skip !== undefined && node.max <= this.skip.heavierThan;
  }

  private lightItem(item: T): boolean {
    return this.skip !== undefined && this.skip.weight(item) <= this.skip.heavierThan;
  }

  private seekChild(node: Branch<T>, started: (item: T) => boolean): number {
    const { children } = node;
    // Ascending: the first child whose last item has started. Descending (started holds on a prefix
    // of the ascending order): the first child whose last item has not, where the last started item
    // is, or else it is the last item of the child before, which `settle` reaches.
    let lo = 0;
    let hi = children.length - 1;
    const up = this.direction === 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (started((children[mid] as Node<T>).last) === up) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private seekItem(items: readonly T[], started: (item: T) => boolean): number {
    let lo = 0;
    let hi = items.length;
    const up = this.direction === 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (started(items[mid] as T) === up) hi = mid;
      else lo = mid + 1;
    }
    return up ? lo : lo - 1;
  }

  /** From `position`, moves in the walk's direction to the first item there is and may be visited. */
  private settle(): void {
    for (;;) {
      const leaf = this.leaf;
      if (!leaf) {
        this.current = undefined;
        return;
      }
      const items = leaf.items;
      // A leaf with nothing heavy is passed over whole (a walk may start in one).
      if (this.light(leaf)) this.position = this.direction === 1 ? items.length : -1;
      while (this.position >= 0 && this.position < items.length) {
        const item = items[this.position] as T;
        if (!this.lightItem(item)) {
          this.current = item;
          return;
        }
        this.position += this.direction;
      }
      this.nextLeaf();
    }
  }

  private nextLeaf(): void {
    while (this.stack.length > 0) {
      const frame = this.stack[this.stack.length - 1] as Frame<T>;
      const { children } = frame.node;
      frame.index += this.direction;
      while (frame.index >= 0 && frame.index < children.length && this.light(children[frame.index] as Node<T>)) {
        frame.index += this.direction;
      }
      if (frame.index >= 0 && frame.index < children.length) {
        this.descend(children[frame.index] as Node<T>);
        return;
      }
      this.stack.pop();
    }
    this.leaf = undefined;
  }

  /** Down to the first leaf (in the walk's direction) of `node`, which holds something to visit. */
  private descend(start: Node<T>): void {
    let node = start;
    while (!node.leaf) {
      const { children } = node;
      let index = this.direction === 1 ? 0 : children.length - 1;
      // `node` is not light, so one of its children is not.
      while (this.light(children[index] as Node<T>)) index += this.direction;
      this.stack.push({ node, index });
      node = children[index] as Node<T>;
    }
    this.leaf = node;
    this.position = this.direction === 1 ? 0 : node.items.length - 1;
  }
}
