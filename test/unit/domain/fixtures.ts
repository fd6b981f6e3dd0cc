import type { Money } from '../../../src/domain/money.ts';
import type { EventOf } from '../../../src/domain/product/events.ts';

export const eur = (amount: number): Money => ({ amount, currency: 'EUR' });

export const mug = { sku: 'MUG-001', name: 'Mug', description: 'Stoneware, 350 ml', price: eur(1200), stock: 10 };

export const productCreated = (data: Partial<EventOf<'ProductCreated'>['data']> = {}): EventOf<'ProductCreated'> => ({
  type: 'ProductCreated',
  data: { ...mug, ...data },
});

export const productDiscontinued: EventOf<'ProductDiscontinued'> = { type: 'ProductDiscontinued', data: {} };
