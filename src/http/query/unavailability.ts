import { BulkheadFull } from '../../infra/bulkhead.ts';
import { isMongoUnavailable, isTimeLimitExceeded } from '../../infra/mongo.ts';
import { ProblemError } from '../problem.ts';

const unavailable = (detail: string, retryAfterSeconds: number) =>
  new ProblemError('service-unavailable', detail, {}, { 'Retry-After': String(retryAfterSeconds) });

/** The failures that mean "not now" (a 503 with Retry-After): the views database is down, busy, or too slow. */
export function unavailability(error: Error): ProblemError | undefined {
  if (isMongoUnavailable(error)) return unavailable('the views database does not answer', 5);
  if (error instanceof BulkheadFull) return unavailable(`too many ${error.bulkhead} in progress; retry shortly`, 1);
  if (isTimeLimitExceeded(error)) return unavailable('the query ran past its time limit; retry later', 5);
  return undefined;
}
