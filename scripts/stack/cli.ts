import { urls } from './paths.ts';
import { StackError, say } from './progress.ts';
import { apiToken } from './services.ts';
import { down, status, up } from './stack.ts';

/** `npm run up [-- --detach]`, `npm run down`, `npm run status`. */

const [verb, ...flags] = process.argv.slice(2);

function printStatus(rows: Awaited<ReturnType<typeof status>>): void {
  const table = [
    ['COMPONENT', 'PID', 'ADDRESS', 'HEALTH', 'MEMORY', ''],
    ...rows.map((r) => [r.component, r.pid, r.address, r.healthy ? 'healthy' : 'DOWN', r.memory, r.detail]),
  ];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => row[i]?.length ?? 0))) ?? [];
  for (const row of table)
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}

function printWelcome(): void {
  const token = apiToken();
  console.log(`
Command service  ${urls.command}   (docs: ${urls.command}/docs)
Query service    ${urls.query}   (docs: ${urls.query}/docs)
Console          ${urls.query}/console   (live lag, dead letters, rebuilds; admin token in .stack/admin-token)
API token        ${token}   (also in .stack/api-token)

Try:
  curl -s -X POST ${urls.command}/products -H 'Authorization: Bearer ${token}' \\
    -H 'Content-Type: application/json' -H "Idempotency-Key: $(uuidgen || date +%s%N)" \\
    -d '{"sku":"MUG-001","name":"Coffee mug","price":{"amount":1299,"currency":"EUR"},"initialStock":10}'
  curl -s ${urls.query}/products
`);
}

async function main(): Promise<void> {
  switch (verb) {
    case 'up': {
      const withServices = !flags.includes('--infra-only');
      await up({ services: withServices });
      printStatus(await status());
      if (withServices) printWelcome();
      if (flags.includes('--detach')) return;
      say('stack', 'running in the foreground: Ctrl-C stops everything');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      say('stack', 'stopping');
      await down();
      return;
    }
    case 'down':
      await down();
      say('stack', 'stopped');
      return;
    case 'status': {
      const rows = await status();
      printStatus(rows);
      if (rows.some((r) => !r.healthy)) process.exitCode = 1;
      return;
    }
    default:
      console.error('usage: cli.ts up [--detach] [--infra-only] | down | status');
      process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  if (error instanceof StackError) console.error(`[stack] FAILED ${error.message}`);
  else console.error('[stack] FAILED', error);
  process.exit(1);
});
