import type { Money } from '../../../domain/money.ts';
import type { ProductEnvelope } from '../../record.ts';

export const PRODUCTS = 'products';

export type ProductStatus = 'active' | 'discontinued';

/** A product as the query API shows it. */
export interface ProductView {
  id: string;
  sku: string;
  name: string;
  description: string;
  price: Money;
  stock: number;
  status: ProductStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * The stored document: the view with BSON dates (sortable), the partition that owns it (its only
 * writer) and `validFrom`, the projection time this version became current, which list pagination
 * uses to read the catalog as of one instant (see versions.ts).
 */
export interface ProductDoc extends Omit<ProductView, 'createdAt' | 'updatedAt'> {
  _id: string;
  createdAt: Date;
  updatedAt: Date;
  partition: number;
  validFrom: Date;
}

/**
 * Applies one event to a product document; `null` for a product the view has not seen. Pure: the
 * caller has already checked that `event.version` is the document's version + 1, and that a stream
 * starts with ProductCreated at version 1 (see record.ts), so `doc` is null exactly for creations.
 * A second ProductCreated keeps the first one's facts and still counts, as the domain's evolve does.
 */
export function evolveProduct(
  doc: ProductDoc | null,
  event: ProductEnvelope,
  partition: number,
  validFrom: Date,
): ProductDoc {
  const at = new Date(event.occurredAt);
  if (doc === null) {
    if (event.type !== 'ProductCreated') {
      throw new Error(`${event.type} v${event.version} of ${event.aggregateId} has no product to apply to`);
    }
    const { sku, name, description, price, stock } = event.data;
    return {
      _id: event.aggregateId,
      id: event.aggregateId,
      sku,
      name,
      description,
      price,
      stock,
      status: 'active',
      version: event.version,
      createdAt: at,
      updatedAt: at,
      partition,
      validFrom,
    };
  }
  const next = { ...doc, version: event.version, updatedAt: at, validFrom };
  switch (event.type) {
    case 'ProductCreated':
      return next;
    case 'ProductPriceChanged':
      return { ...next, price: event.data.newPrice };
    case 'ProductDetailsUpdated':
      return { ...next, name: event.data.name, description: event.data.description };
    case 'ProductRestocked':
    case 'StockReserved':
      return { ...next, stock: event.data.stock };
    case 'ProductDiscontinued':
      return { ...next, status: 'discontinued' };
  }
}

export const toProductView = (doc: Omit<ProductDoc, '_id' | 'partition' | 'validFrom'>): ProductView => ({
  id: doc.id,
  sku: doc.sku,
  name: doc.name,
  description: doc.description,
  price: { amount: doc.price.amount, currency: doc.price.currency },
  stock: doc.stock,
  status: doc.status,
  version: doc.version,
  createdAt: doc.createdAt.toISOString(),
  updatedAt: doc.updatedAt.toISOString(),
});
