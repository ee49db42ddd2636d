/**
 * CPU time by process, from /proc (Linux): what each side of a comparison costs the machine, not only how fast it
 * went. Processes are told apart by their command line; `tree` adds their descendants (PostgreSQL's backends).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export type CpuLabels = Record<string, { match: RegExp; tree?: boolean }>;
export type CpuSample = Map<string, number>;

interface Proc {
  pid: number;
  ppid: number;
  cmdline: string;
  seconds: number;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The fields after the command name (which may hold spaces): ppid is the 2nd, utime and stime the 12th and 13th.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(pid), ppid: Number(f[1]), cmdline, seconds: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU seconds used so far per label, and by the whole machine (`machine`). */
export function cpuSample(labels: CpuLabels): CpuSample {
  const procs = processes();
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const sample: CpuSample = new Map();
  for (const [label, { match, tree }] of Object.entries(labels)) {
    const seen = new Set<number>();
    const add = (p: Proc) => {
      if (seen.has(p.pid)) return;
      seen.add(p.pid);
      if (tree) for (const c of children.get(p.pid) ?? []) add(c);
    };
    for (const p of procs) if (match.test(p.cmdline)) add(p);
    sample.set(
      label,
      procs.filter((p) => seen.has(p.pid)).reduce((s, p) => s + p.seconds, 0),
    );
  }
  const all = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  // user, nice, system, irq, softirq, steal (idle and iowait left out)
  sample.set('machine', (all[0]! + all[1]! + all[2]! + all[5]! + all[6]! + all[7]!) / TICKS_PER_SECOND);
  return sample;
}

/** Milliseconds of CPU per operation by label between two samples. */
export function cpuPerOp(before: CpuSample, after: CpuSample, ops: number): Record<string, number> {
  return Object.fromEntries([...after].map(([k, v]) => [k, ((v - (before.get(k) ?? 0)) * 1000) / ops]));
}

/** `gateway 1.2, temporal 3.4, …` */
export const formatCpu = (perOp: Record<string, number>) =>
  Object.entries(perOp)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
