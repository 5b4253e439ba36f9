import t from 'tap';
import { cpuDelta, parseProcStat, processTree, procCpuMs, type ProcStat } from '../../scripts/bench/common.js';

// The benchmarks' CPU figures come from these: a misread field would make every "CPU ms per request" wrong
// without any benchmark failing.
t.test('parseProcStat reads pid, ppid and utime + stime in ms, whatever the command name holds', async (t) => {
  // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  const line = '4242 (node (worker) 1) S 4000 4242 4000 0 -1 4194304 5000 0 12 0 250 75 0 0 20 0 11 0 12345 1000000 5000 18446744073709551615';
  t.same(parseProcStat(line), { pid: 4242, ppid: 4000, cpuMs: 3250 });
  t.equal(parseProcStat('garbage'), null);
  t.equal(parseProcStat('12 (x) S'), null, 'a truncated line is not read as zero');
});

t.test('procCpuMs reads this very process', async (t) => {
  const ms = procCpuMs(process.pid);
  t.ok(ms !== null && ms >= 0);
  t.equal(procCpuMs(0x7ffffffe), null, 'a process that is not there');
});

t.test('processTree finds workers and their children, not siblings', async (t) => {
  const p = (pid: number, ppid: number, cpuMs = 0): [number, ProcStat] => [pid, { pid, ppid, cpuMs }];
  const procs = new Map([p(1, 0), p(10, 1), p(11, 10), p(12, 10), p(13, 11), p(20, 1), p(21, 20)]);
  t.same(processTree(10, procs).map((x) => x.pid).sort(), [10, 11, 12, 13]);
  t.same(processTree(99, procs), [], 'a server that has exited');
});

t.test('cpuDelta sums what each process or thread used between two snapshots', async (t) => {
  const before = new Map([[1, 100], [2, 50], [3, 10]]);
  const after = new Map([[1, 160], [2, 50], [4, 30]]);
  // 1: +60; 2: +0; 3 ended (not counted); 4 started during the phase: all of its 30.
  t.equal(cpuDelta(before, after), 90);
  t.equal(cpuDelta(before, after, new Set([1, 3])), 60, 'only the threads named (MariaDB connections)');
});
