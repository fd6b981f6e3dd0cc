import type { ProductDoc } from './view.ts';

/**
 * Superseded versions of product documents, kept for a while so that a paginated list reads the
 * catalog as it was when its first page was served: a cursor carries that instant T, and every page
 * reads the products current at T (`validFrom <= T`) plus the versions that were current at T
 * (`validFrom <= T < validTo`). Each product has exactly one version valid at any T, so a product
 * that existed throughout is listed once, in the place its T-time values give it, however often it
 * changes meanwhile. T is always a watermark below every write still in flight (see catalog-stats),
 * so no page sees a version that an earlier page could not.
 */
export const PRODUCT_VERSIONS = 'product_versions';

export interface ProductVersionDoc extends Omit<ProductDoc, '_id'> {
  /** `<productId>:<version>` */
  _id: string;
  validTo: Date;
  /** Minute of `validTo`: expiry deletes by equality, the one filter FerretDB evaluates in PostgreSQL. */
  pruneBucket: number;
}

export const PRUNE_BUCKET_MS = 60_000;

export const pruneBucketOf = (time: number): number => Math.floor(time / PRUNE_BUCKET_MS);

export const versionId = (productId: string, version: number): string => `${productId}:${version}`;

export function supersededVersion(doc: ProductDoc, validTo: Date): ProductVersionDoc {
  const { _id, ...rest } = doc;
  return { ...rest, _id: versionId(doc.id, doc.version), validTo, pruneBucket: pruneBucketOf(validTo.getTime()) };
}
