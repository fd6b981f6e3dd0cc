import type { Component } from './component.ts';
import { ferretdbComponent } from './ferretdb.ts';
import { balanceLeaders, ensureTopics, kafkaNodesList, waitForKafka } from './kafka.ts';
import { postgresComponent } from './postgres.ts';
import { residentMiB } from './processes.ts';
import { say } from './progress.ts';
import { serviceComponents } from './services.ts';

export const infrastructure: Component[] = [postgresComponent, ...kafkaNodesList, ferretdbComponent];
export const allComponents = (): Component[] => [...infrastructure, ...serviceComponents];

const partitions = Number(process.env.KAFKA_PARTITIONS ?? 12);

/**
 * Installs what is missing, starts what is not running, and returns once every part answers a
 * real check. Returns the components this call started, so a caller can stop only those.
 */
export async function up({ services = true } = {}): Promise<Component[]> {
  const wanted = services ? allComponents() : infrastructure;
  const started = wanted.filter((c) => c.pid() === undefined);
  const t0 = Date.now();
  for (const component of wanted) await component.install();
  await postgresComponent.start();
  // Brokers start together: each waits for a quorum of controllers, so starting them one by one
  // would make the first wait for the others.
  for (const node of kafkaNodesList) await node.start();
  await ferretdbComponent.start();
  await waitForKafka();
  await ensureTopics(partitions);
  await balanceLeaders();
  if (services) for (const service of serviceComponents) await service.start();
  say('stack', `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return started;
}

/** Stops the given components (by default all), in the reverse order of their dependencies. */
export async function down(components: Component[] = allComponents()): Promise<void> {
  const has = (c: Component) => components.includes(c);
  await Promise.all(serviceComponents.filter(has).map((c) => c.stop()));
  if (has(ferretdbComponent)) await ferretdbComponent.stop();
  await Promise.all(kafkaNodesList.filter(has).map((c) => c.stop()));
  if (has(postgresComponent)) await postgresComponent.stop();
}

export interface StatusRow {
  component: string;
  pid: string;
  address: string;
  healthy: boolean;
  memory: string;
  detail: string;
}

export async function status(): Promise<StatusRow[]> {
  return Promise.all(
    allComponents().map(async (c) => {
      const pid = c.pid();
      const healthy = pid !== undefined && (await c.healthy());
      return {
        component: c.name,
        pid: pid ? String(pid) : '-',
        address: c.address,
        healthy,
        memory: pid ? `${residentMiB(pid)} MiB` : '-',
        detail: healthy && c.detail ? await c.detail() : '',
      };
    }),
  );
}
