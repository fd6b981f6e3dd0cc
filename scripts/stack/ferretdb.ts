import { chmodSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { Component } from './component.ts';
import { cacheDir, ferretdbVersion, logFile, ports, stateDir, urls } from './paths.ts';
import { run, runningPid, startDaemon, stopDaemon } from './processes.ts';
import { StackError, say, waitFor } from './progress.ts';
import { ensureGoInstalled } from './system.ts';

/**
 * FerretDB v1 as the MongoDB, over the stack's PostgreSQL (database `ferretdb`).
 *
 * `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds, but the binary panics at
 * start: its version package requires a generated build/version/version.txt that the published
 * module does not contain. So the stack downloads that exact module version from the Go module
 * proxy (`go mod download`), writes version.txt as FerretDB's own instructions say, and builds
 * cmd/ferretdb from it. Go's module and build caches make the second build fast.
 */

const binDir = join(cacheDir, `ferretdb-${ferretdbVersion}`);
const binary = join(binDir, 'ferretdb');
const stateRoot = join(stateDir, 'ferretdb');

/**
 * FerretDB v1 allocates heavily to convert documents (a CPU profile during a rebuild: about 30 % in
 * mallocgc and 15 % in GC scanning) and keeps a small live heap (about 40 MB RSS), so at Go's
 * default GOGC=100 it collects after every 40 MB allocated. Measured on 2026-12-02, restarting it
 * with each setting in turn on one stack: at GOGC=1000 it spent 23-33 us of CPU per inserted
 * document against 39-52 us at 100, and rebuilds of 250,000 products ran 1.08x and 1.33x faster;
 * its RSS stayed under 100 MB. The memory limit makes it collect harder before it could pass 2 GiB.
 */
const FERRETDB_GC = { GOGC: '1000', GOMEMLIMIT: '2GiB' };

async function install(): Promise<void> {
  if (existsSync(binary)) return;
  ensureGoInstalled();
  const module = `github.com/FerretDB/FerretDB@${ferretdbVersion}`;
  say('ferretdb', `downloading ${module} from the Go module proxy`);
  const info = JSON.parse(run('ferretdb', 'go', ['mod', 'download', '-json', module], { quiet: true })) as {
    Dir: string;
  };
  const src = join(cacheDir, `ferretdb-${ferretdbVersion}-src`);
  rmSync(src, { recursive: true, force: true });
  cpSync(info.Dir, src, { recursive: true });
  chmodSync(src, 0o755);
  run('ferretdb', 'chmod', ['-R', 'u+w', src]);
  writeFileSync(join(src, 'build', 'version', 'version.txt'), `${ferretdbVersion}\n`);
  say('ferretdb', 'building cmd/ferretdb (a few minutes on a cold Go cache)');
  mkdirSync(binDir, { recursive: true });
  run('ferretdb', 'go', ['build', '-buildvcs=false', '-o', `${binary}.tmp`, './cmd/ferretdb'], { cwd: src });
  run('ferretdb', 'mv', [`${binary}.tmp`, binary]);
  rmSync(src, { recursive: true, force: true });
}

async function ping(): Promise<boolean> {
  const client = new MongoClient(urls.mongo, {
    serverSelectionTimeoutMS: 2000,
    connectTimeoutMS: 2000,
    socketTimeoutMS: 3000,
  });
  try {
    await client.connect();
    const reply = await client.db('admin').command({ ping: 1 });
    return reply.ok === 1;
  } catch {
    return false;
  } finally {
    await client.close();
  }
}

export const ferretdbComponent: Component = {
  name: 'ferretdb',
  address: `127.0.0.1:${ports.mongo}`,
  install,
  async start() {
    if (runningPid('ferretdb') && !(await waitFor(ping, { timeoutMs: 10_000 }))) {
      // Seen: FerretDB v1.24.2 out of PostgreSQL connections (concurrent multi-statement updates
      // each hold one per statement) answers nothing, not even a ping, and never recovers.
      say('ferretdb', 'running but not answering for 10 s: restarting it');
      await stopDaemon('ferretdb');
    }
    if (!runningPid('ferretdb')) {
      mkdirSync(stateRoot, { recursive: true });
      say('ferretdb', `starting on ${this.address}`);
      startDaemon({
        name: 'ferretdb',
        command: binary,
        args: [
          `--listen-addr=127.0.0.1:${ports.mongo}`,
          `--debug-addr=127.0.0.1:${ports.ferretdbDebug}`,
          '--handler=postgresql',
          `--postgresql-url=${urls.ferretdbBackend}`,
          `--state-dir=${stateRoot}`,
          '--telemetry=disable',
          '--log-level=WARN',
          '--log-format=json',
        ],
        marker: stateRoot,
        env: FERRETDB_GC,
      });
    }
    if (!(await waitFor(ping, { timeoutMs: 60_000 }))) {
      throw new StackError('ferretdb', 'does not answer a MongoDB ping within 60 s', logFile('ferretdb'));
    }
  },
  healthy: ping,
  pid: () => runningPid('ferretdb'),
  async stop() {
    await stopDaemon('ferretdb');
  },
};
