// Runs before every npm script that needs the project's packages. Plain Node with no dependencies,
// because it is what installs them on a fresh clone.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const lock = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.cqrs-catalog-deps');

// Only what decides the installed packages counts: editing a script must not reinstall.
const { dependencies, devDependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const wanted = createHash('sha256')
  .update(JSON.stringify({ dependencies, devDependencies }))
  .update(existsSync(lock) ? readFileSync(lock) : '')
  .digest('hex');
const current = existsSync(stamp) ? readFileSync(stamp, 'utf8') : '';

if (current !== wanted) {
  const how = existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  console.error(`[deps] node_modules missing or stale: running npm ${how[0]} (progress below)`);
  execFileSync('npm', how, { cwd: root, stdio: 'inherit' });
  writeFileSync(stamp, wanted);
  console.error('[deps] installed');
}
