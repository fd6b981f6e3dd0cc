import postgres from 'postgres';
import type { Logger } from './logger.ts';

export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;
export { postgres };

/** The one `sql` instance of a process. Query text and parameters stay out of logs. */
export function createSql(url: string, options: { max: number; logger: Logger; applicationName: string }): Sql {
  return postgres(url, {
    max: options.max,
    connection: { application_name: options.applicationName },
    onnotice: (notice) => options.logger.debug({ notice: notice.message }, 'postgres notice'),
    // Event and view documents are built by the application; JSON columns pass through as values.
    transform: { undefined: null },
    connect_timeout: 5,
    idle_timeout: 60,
  });
}

/** PostgreSQL error codes the application reacts to. */
export const PG = {
  uniqueViolation: '23505',
} as const;

export const isPgError = (error: unknown): error is postgres.PostgresError => error instanceof postgres.PostgresError;

/** Errors that mean "the database is not reachable right now" (answer 503, retry later). */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'CONNECT_TIMEOUT' ||
    code === 'CONNECTION_CLOSED' ||
    code === 'CONNECTION_ENDED' ||
    code === 'CONNECTION_DESTROYED' ||
    code === 'ENOTFOUND' ||
    code === 'EPIPE' ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '08006' ||
    code === '08001'
  );
}
