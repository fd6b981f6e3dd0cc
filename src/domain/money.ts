import { type Infer, integer, max, min, object, pattern, refine } from 'superstruct';
import { StorableText } from './text.ts';

/** Largest amount accepted anywhere: keeps every sum of stock x price inside a safe integer for realistic catalogs. */
export const MAX_AMOUNT = 1_000_000_000_000;

export const SafeInteger = refine(
  integer(),
  'safe integer',
  (value) => Number.isSafeInteger(value) || 'must be a safe integer',
);

export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/**
 * ISO 4217 alphabetic code: three upper-case letters. Built on `StorableText` although the pattern
 * alone excludes NUL: a pattern's message quotes the value, the storable refinement's does not.
 */
export const CurrencyCode = pattern(StorableText, CURRENCY_PATTERN);

/** A price in minor units (cents), strictly positive. */
export const Money = object({
  amount: max(min(SafeInteger, 1), MAX_AMOUNT),
  currency: CurrencyCode,
});
export type Money = Infer<typeof Money>;

export const sameMoney = (a: Money, b: Money): boolean => a.amount === b.amount && a.currency === b.currency;
