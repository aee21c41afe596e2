import type { RedisOptions } from "bullmq";
import { Redis } from "ioredis";
import { CliError } from "../errors.js";
import type { QueueAddress } from "./names.js";

/**
 * Connection options (BullMQ's, which it hands to ioredis) for an address; BullMQ wants maxRetriesPerRequest null
 * on the connections it blocks on.
 */
export function redisOptions(address: QueueAddress, connectionName: string): RedisOptions {
  return {
    host: address.host,
    port: address.port,
    db: address.db,
    connectionName,
    maxRetriesPerRequest: null,
    ...(address.username !== undefined && { username: address.username }),
    ...(address.password !== undefined && { password: address.password }),
    ...(address.tls && { tls: {} }),
  };
}

/** A connected client, or PHM_QUEUE_UNAVAILABLE when the server does not answer within a few seconds. */
export async function connectRedis(address: QueueAddress, connectionName: string): Promise<Redis> {
  const redis = new Redis({
    ...redisOptions(address, connectionName),
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    retryStrategy: (times) => (times > 20 ? null : Math.min(times * 200, 2000)),
  });
  redis.on("error", () => undefined); // reconnects are ioredis's business; a lost server surfaces as a failed command
  try {
    await withDeadline(redis.connect(), 5000);
  } catch (error) {
    redis.disconnect();
    throw new CliError(
      "PHM_QUEUE_UNAVAILABLE",
      `cannot reach the queue at ${address.display}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return redis;
}

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`no answer in ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
