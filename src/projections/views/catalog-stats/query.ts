import type { Collection } from '../../../infra/mongo.ts';
import { fromShardDoc, type StatsShardDoc } from './shard-doc.ts';
import { type CatalogStats, type StatsShard, sumShards } from './view.ts';

export async function readShards(stats: Collection<StatsShardDoc>): Promise<StatsShard[]> {
  return (await stats.find({}).toArray()).map(fromShardDoc);
}

export const catalogStats = (shards: StatsShard[]): CatalogStats => sumShards(shards);

/**
 * The newest instant every partition has fully written: the snapshot a new list pagination reads at.
 * Every partition has a shard from the moment its generation exists (see `ensureShards`), so a
 * partition that has not written yet holds the snapshot back instead of being overlooked.
 */
export const snapshotWatermark = (shards: StatsShard[]): Date =>
  new Date(shards.length === 0 ? 0 : Math.min(...shards.map((shard) => shard.watermark.getTime())));
