// Debian's redis-server and nginx for the system tests, each started on a free loopback port with its files in a
// fresh temp dir, and stopped (and the dir removed) by the returned stop().
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const REDIS_SERVER = "/usr/bin/redis-server";
export const NGINX = "/usr/sbin/nginx";

/** A free TCP port on 127.0.0.1 (the kernel's pick; closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Resolves once something accepts connections on the port (or rejects after `ms`). */
export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port }, () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port} after ${ms} ms`);
    await sleep(50);
  }
}

export interface Service {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

/** redis-server on loopback, no persistence to disk (the tests' queues live only as long as the test). */
export async function startRedis(): Promise<Service & { url: (db?: number) => string }> {
  const dir = mkdtempSync(join(tmpdir(), "phmatch-redis-"));
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
    ],
    { stdio: "ignore" },
  );
  await waitForPort(port);
  return { port, dir, stop: stopper(child, dir), url: (db = 0) => `redis://127.0.0.1:${port}/${db}` };
}

/**
 * nginx on loopback as a round-robin load balancer over `upstreams` (ports): a replica that refuses the connection
 * (stopped for a restart) is skipped and the request goes to the next, so a rolling restart fails no request.
 */
export async function startNginx(upstreams: number[]): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), "phmatch-nginx-"));
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # Bodies are buffered (slow clients are the proxy's to wait for) in memory: a buffer as large as the largest
  # upload means nginx never spools one to a temp file (phmatch never stores media; neither does its proxy).
  client_max_body_size 16m;
  client_body_buffer_size 16m;
  proxy_request_buffering on;
  proxy_buffering off;
  upstream gate {
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join("\n")}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gate;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries ${upstreams.length};
    }
  }
}
`,
  );
  const child = spawn(NGINX, ["-c", conf, "-p", dir, "-e", join(dir, "error.log")], { stdio: "ignore" });
  await waitForPort(port);
  return { port, dir, stop: stopper(child, dir) };
}

/** True when the Debian binaries the system tests start are installed (.ci/run installs them). */
export const hasRedis = existsSync(REDIS_SERVER);
export const hasNginx = existsSync(NGINX);
