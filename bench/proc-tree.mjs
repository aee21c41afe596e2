// A process and its descendants, from /proc (Linux): the gate's supervised worker processes count with it.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** `pid` and every process below it. */
export function treePids(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(entry));
  }
  const out = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift();
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Resident set of the tree (sum of VmRSS), bytes, and open file handles (sum of /proc/<pid>/fd entries). */
export function treeUsage(pid) {
  let rss = 0;
  let fds = 0;
  const pids = treePids(pid);
  for (const p of pids) {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (m !== null) rss += Number(m[1]) * 1024;
      fds += readdirSync(`/proc/${p}/fd`).length;
    } catch {
      // exited between the listing and the read
    }
  }
  return { rss, fds, processes: pids.length };
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** CPU time the tree has used so far (user + system, of the processes alive now), seconds. */
export function treeCpuSeconds(pid) {
  let ticks = 0;
  for (const p of treePids(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // exited
    }
  }
  return ticks / CLOCK_TICKS;
}
