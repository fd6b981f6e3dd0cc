/**
 * What to do with an event given the version the view holds for its aggregate: apply only the next
 * version, ignore what is already applied (redelivery after a crash or rebalance, a relay duplicate),
 * and park anything further ahead until the missing versions arrive, so that nothing is applied out
 * of order.
 */
export type Verdict = 'apply' | 'duplicate' | 'gap';

export const versionVerdict = (current: number, incoming: number): Verdict =>
  incoming <= current ? 'duplicate' : incoming === current + 1 ? 'apply' : 'gap';
