import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * What other processes cost while a bench runs: resident memory (peak of samples taken every
 * `everyMs`, as `/proc/<pid>/status` VmRSS, or `ps -o rss=` where there is no /proc) and CPU
 * time (`/proc/<pid>/stat` utime + stime). CPU figures are Linux-only; elsewhere they are NaN.
 */

const CLOCK_TICKS_PER_SECOND = 100;
const HAS_PROC = (() => {
  try {
    readFileSync('/proc/self/status', 'utf8');
    return true;
  } catch {
    return false;
  }
})();

/** Resident set size in KiB, or undefined once the process is gone. */
export function rssKb(pid: number): number | undefined {
  if (HAS_PROC) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }
  try {
    const out = execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return out ? Number(out) : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU time of a process in ms (NaN without /proc). */
export function cpuMs(pid: number): number {
  if (!HAS_PROC) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Busy and total CPU time of the whole machine in ms, summed over its cores. */
export function machineCpu(): { busy: number; total: number } {
  if (!HAS_PROC) return { busy: Number.NaN, total: Number.NaN };
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const ms = values.map((ticks) => (Number(ticks) * 1000) / CLOCK_TICKS_PER_SECOND);
  const total = ms.reduce((a, b) => a + b, 0);
  // Busy is all but idle and iowait.
  return { busy: total - ms[3]! - (ms[4] ?? 0), total };
}

/** Whether `pid` is a PostgreSQL process on this machine (a backend pid the server reported may be remote). */
export function isLocalPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('postgres');
  } catch {
    return false;
  }
}

export interface ProcessUsage {
  /** Highest VmRSS sampled, KiB (NaN if never sampled). */
  peakRssKb: number;
  /** CPU ms used between start() and stop(), as last seen (a process that exited keeps its last sample). */
  cpuMs: number;
}

export interface ProcessSampler {
  /** Starts following another process (sampled from now on). */
  add(pid: number): void;
  /** Resets the CPU baseline of every followed process to now (the measured window starts). */
  mark(): void;
  /** Takes a last sample and stops; usage per pid, in the order added. */
  stop(): Map<number, ProcessUsage>;
}

/** Samples the given processes (and those added later) every `everyMs` until stopped. */
export function sampleProcesses(pids: number[], everyMs = 200): ProcessSampler {
  const followed = new Map<number, { peak: number; baseCpu: number; lastCpu: number }>();
  const add = (pid: number, baseCpu = cpuMs(pid)) => {
    if (!followed.has(pid)) followed.set(pid, { peak: Number.NaN, baseCpu, lastCpu: baseCpu });
  };
  for (const pid of pids) add(pid);
  let marked = false;
  const sample = () => {
    for (const [pid, state] of followed) {
      const rss = rssKb(pid);
      if (rss !== undefined && !(rss <= state.peak)) state.peak = rss;
      const cpu = cpuMs(pid);
      if (Number.isFinite(cpu)) state.lastCpu = cpu;
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    // A process added after the window started counts from zero: it was not there before.
    add: (pid) => add(pid, marked ? 0 : cpuMs(pid)),
    mark() {
      sample();
      marked = true;
      for (const state of followed.values()) state.baseCpu = state.lastCpu;
    },
    stop() {
      sample();
      clearInterval(timer);
      return new Map([...followed].map(([pid, s]) => [pid, { peakRssKb: s.peak, cpuMs: s.lastCpu - s.baseCpu }]));
    },
  };
}
