import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pidFile, urls } from '../scripts/stack/paths.ts';
import { commandService, serviceEnv } from '../scripts/stack/services.ts';
import { type CpuProfile, describeProfile, summarizeProfile, threadOf } from './cpuprofile.ts';
import { log } from './generator.ts';
import { isReady, repoRoot } from './stack.ts';

/**
 * `--profile`: the stack's command service runs without a profiler, so the bench stops it, starts it
 * again under node --cpu-prof for the whole run, and afterwards stops it with SIGTERM (node writes one
 * .cpuprofile per thread, workers included, only on a clean exit) and gives the stack its own back.
 */

const SCRIPT = join(repoRoot, 'src', 'command-service.ts');
const READY_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 30_000;

export interface ProfiledService {
  pid: number;
  /** Stops the profiled service, restarts the stack's, prints the profiles; once, whatever calls it. */
  finish(): Promise<{ clean: boolean; files: string[] }>;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export async function startProfiledCommandService(dir: string): Promise<ProfiledService> {
  log(`profile: stopping the stack's command service to start it again under --cpu-prof`);
  await commandService.stop();
  mkdirSync(dir, { recursive: true });
  const output = openSync(join(dir, 'command-service.log'), 'a');
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', SCRIPT], {
    cwd: repoRoot,
    env: { ...process.env, ...serviceEnv() },
    detached: true,
    stdio: ['ignore', output, output],
  });
  closeSync(output);
  const pid = child.pid;
  if (pid === undefined) {
    await commandService.start();
    throw new Error('could not start the command service under --cpu-prof');
  }
  // The stack's own PID file (with its marker, the script path): should the bench die before
  // finish(), `npm run down` still stops this process.
  writeFileSync(pidFile('command-service'), `${pid}\n${SCRIPT}\n`);
  const exited = new Promise<string>((done) =>
    child.once('exit', (code, signal) => done(code === null ? `signal ${signal}` : `code ${code}`)),
  );
  let exit: string | undefined;
  void exited.then((how) => {
    exit = how;
  });

  let finishing: Promise<{ clean: boolean; files: string[] }> | undefined;
  const finish = () => {
    finishing ??= (async () => {
      log(`profile: stopping the profiled command service (pid ${pid}) with SIGTERM so that node writes its profiles`);
      if (exit === undefined) child.kill('SIGTERM');
      const how = await Promise.race([exited, sleep(EXIT_TIMEOUT_MS).then(() => undefined)]);
      if (how === undefined) {
        log(`profile: no exit within ${EXIT_TIMEOUT_MS / 1000} s; killing it (its profiles are lost)`);
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // it ended in the meantime
        }
        await exited;
      } else if (how !== 'code 0') {
        log(`profile: the command service exited with ${how}, not cleanly; profiles may be missing`);
      }
      const file = pidFile('command-service');
      if (existsSync(file) && readFileSync(file, 'utf8').startsWith(`${pid}\n`)) rmSync(file);
      log(`profile: starting the stack's command service again`);
      await commandService.start();
      const files = summarizeProfiles(dir);
      return { clean: how === 'code 0', files };
    })();
    return finishing;
  };

  log(`profile: command service under --cpu-prof (pid ${pid}), profiles to ${relative(repoRoot, dir)}/`);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await isReady(urls.command))) {
    if (exit !== undefined || Date.now() > deadline) {
      const why = exit === undefined ? `not ready within ${READY_TIMEOUT_MS / 1000} s` : `exited with ${exit}`;
      await finish();
      throw new Error(`the profiled command service ${why}; see ${join(dir, 'command-service.log')}`);
    }
    await sleep(200);
  }
  return { pid, finish };
}

function summarizeProfiles(dir: string): string[] {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (files.length === 0) log(`profile: no .cpuprofile in ${relative(repoRoot, dir)}/`);
  for (const file of files.sort()) {
    const path = join(dir, file);
    try {
      const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
      log(`profile: ${relative(repoRoot, path)} (${threadOf(file, profile)})`);
      for (const line of describeProfile(summarizeProfile(profile, repoRoot))) log(`  ${line}`);
    } catch (error) {
      log(`profile: ${relative(repoRoot, path)} unreadable: ${(error as Error).message}`);
    }
  }
  return files.map((file) => join(dir, file));
}
