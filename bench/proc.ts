import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** What the bench reads from Linux's /proc: a process's CPU time and the TCP ports its sockets use. */

export interface ProcStat {
  pid: number;
  comm: string;
  /** Clock ticks after boot: with the pid, it tells a recycled pid from the process seen before. */
  startTime: number;
  /** utime + stime, in clock ticks: every thread of the process, exited ones included. */
  ticks: number;
}

/**
 * Parses /proc/<pid>/stat. The command name is in parentheses and may itself contain spaces and
 * parentheses, so the numeric fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  // After ") " comes field 3 (state); utime, stime and starttime are fields 14, 15 and 22 of proc(5).
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number): number => {
    const value = Number(fields[n - 3]);
    if (!Number.isSafeInteger(value)) throw new Error(`/proc/<pid>/stat field ${n} is not a number: ${text}`);
    return value;
  };
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    startTime: field(22),
    ticks: field(14) + field(15),
  };
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    // gone since it was listed
    return undefined;
  }
}

/** The local port of each socket in /proc/<pid>/net/tcp or tcp6, by socket inode. */
export function parseNetTcp(text: string): Map<string, number> {
  const ports = new Map<string, number>();
  for (const line of text.split('\n').slice(1)) {
    // sl, local_address, rem_address, st, tx_queue:rx_queue, tr:tm->when, retrnsmt, uid, timeout, inode
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const inode = fields[9];
    if (!local || !inode) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (Number.isInteger(port)) ports.set(inode, port);
  }
  return ports;
}

const SOCKET = /^socket:\[(\d+)\]$/;

/**
 * The socket inodes a process holds. Throws when the process cannot be read, so that a missing
 * permission is not mistaken for a process without connections.
 */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = SOCKET.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // closed between the listing and the read
    }
  }
  return inodes;
}

/**
 * Local TCP port by socket inode, over the bench's own network namespace: it reaches every watched
 * process on 127.0.0.1, so they share it.
 */
export function tcpPorts(): Map<string, number> {
  const ports = new Map<string, number>();
  for (const table of ['tcp', 'tcp6']) {
    try {
      for (const [inode, port] of parseNetTcp(readFileSync(`/proc/self/net/${table}`, 'utf8'))) ports.set(inode, port);
    } catch {
      // no IPv6 in this kernel
    }
  }
  return ports;
}
