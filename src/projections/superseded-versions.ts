import type { ListIndex } from './views/products/list-index.ts';
import type { ProductVersionDoc } from './views/products/versions.ts';

/**
 * The versions a partition actor superseded, for as long as list cursors live: in the order they
 * ended (to expire them), and in the process's list index (see `CatalogIndex`), which a list at a
 * snapshot walks for the versions still current then.
 */
export class SupersededVersions {
  private readonly byEnd: ProductVersionDoc[] = [];

  constructor(private readonly index: ListIndex<ProductVersionDoc>) {}

  /** Versions that ended after every one added before. */
  add(versions: readonly ProductVersionDoc[]): void {
    for (const version of versions) {
      this.byEnd.push(version);
      this.index.add(version);
    }
  }

  /** Forgets the versions that ended before `cutoff`. */
  expireBefore(cutoff: number): void {
    const kept = this.byEnd.findIndex((v) => v.validTo.getTime() >= cutoff);
    const expired = this.byEnd.splice(0, kept === -1 ? this.byEnd.length : kept);
    for (const version of expired) this.index.delete(version);
  }

  /** Takes every version out of the index: the actor is letting its state go. */
  release(): void {
    for (const version of this.byEnd) this.index.delete(version);
    this.byEnd.length = 0;
  }

  get size(): number {
    return this.byEnd.length;
  }
}
