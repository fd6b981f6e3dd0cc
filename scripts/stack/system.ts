import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { RunAs } from './processes.ts';
import { run } from './processes.ts';
import { StackError, say } from './progress.ts';

/** Debian packages the stack needs, installed with apt-get when their binary is missing. */

let aptUpdated = false;

const isRoot = (): boolean => process.getuid?.() === 0;

function aptInstall(component: string, packages: string[]): void {
  const sudo = isRoot() ? [] : ['sudo', '-n'];
  if (!isRoot() && spawnSync('sudo', ['-n', 'true']).status !== 0) {
    throw new StackError(
      component,
      `needs Debian packages ${packages.join(' ')}: install them (apt-get install ${packages.join(' ')}) or run as root`,
    );
  }
  const apt = (args: string[]) =>
    run(component, sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), ...args], {
      env: { DEBIAN_FRONTEND: 'noninteractive' },
    });
  if (!aptUpdated) {
    say(component, 'apt-get update');
    apt(['update', '-q']);
    aptUpdated = true;
  }
  say(component, `apt-get install ${packages.join(' ')}`);
  apt(['install', '-y', '-q', '--no-install-recommends', ...packages]);
}

export const postgresBin = '/usr/lib/postgresql/15/bin';

export function ensurePostgresInstalled(): void {
  if (existsSync(`${postgresBin}/postgres`)) return;
  aptInstall('postgres', ['postgresql-15']);
}

export function ensureJavaInstalled(): void {
  const version = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (version.status === 0 && /version "(1[7-9]|[2-9]\d)/.test(version.stderr)) return;
  aptInstall('kafka', ['openjdk-17-jre-headless']);
}

export function ensureMavenInstalled(): void {
  if (spawnSync('mvn', ['-v']).status === 0) return;
  aptInstall('kafka', ['maven']);
}

export function ensureGoInstalled(): void {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  const match = /go1\.(\d+)/.exec(go.stdout ?? '');
  if (go.status === 0 && match && Number(match[1]) >= 21) return;
  throw new StackError('ferretdb', 'needs Go 1.21 or newer on PATH to build FerretDB (Debian 12 ships an older one)');
}

/**
 * PostgreSQL refuses to run as root. When the stack runs as root it runs PostgreSQL as the
 * `postgres` system user that the Debian package creates.
 */
export function postgresRunAs(): RunAs | undefined {
  if (!isRoot()) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new StackError('postgres', 'running as root but there is no postgres system user');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export const chromiumPath = '/usr/bin/chromium';

/** Debian's Chromium for the browser checks: a browser download by an npm install script fails on a closed network. */
export function ensureChromiumInstalled(): void {
  if (existsSync(chromiumPath)) return;
  aptInstall('chromium', ['chromium']);
}
