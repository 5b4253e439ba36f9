// Summarises V8 CPU profiles (node --cpu-prof, or a benchmark's --cpu-prof DIR): self time by function and by
// file, across every profile given, so a profile can be read without DevTools and two trees compared as text.
// Usage: node scripts/bench/profile-summary.mjs DIR|FILE... [--top N]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const topAt = argv.indexOf('--top');
const top = topAt >= 0 ? Number(argv.splice(topAt, 2)[1]) : 40;
const files = argv.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)) : [p]));
if (!files.length) {
  process.stderr.write('usage: node scripts/bench/profile-summary.mjs DIR|FILE... [--top N]\n');
  process.exit(2);
}

const byFunction = new Map();
const byFile = new Map();
let total = 0;
const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
/** node_modules/<package> (or <@scope/package>), or the path from src/ on, so that trees line up. */
const shortFile = (url) => {
  if (!url) return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm:${nm[1]}`;
  const own = /\/((?:src|dist\/src|scripts|node:)[^?]*)/.exec(url);
  return own ? own[1].replace(/^dist\//, '') : url.replace(/^file:\/\//, '');
};

for (const file of files) {
  const { nodes, samples, timeDeltas } = JSON.parse(readFileSync(file, 'utf8'));
  const self = new Map();
  // timeDeltas[i] is the time before samples[i]: the interval that sample stands for.
  for (let i = 0; i < samples.length; i++) add(self, samples[i], timeDeltas[i] ?? 0);
  for (const node of nodes) {
    const us = self.get(node.id) ?? 0;
    if (!us) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = shortFile(url);
    total += us;
    add(byFunction, `${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`, us);
    add(byFile, where, us);
  }
}

const print = (title, map) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${(us / 1000).toFixed(1).padStart(9)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${key}\n`);
  }
};
process.stdout.write(`${files.length} profile(s), ${(total / 1000).toFixed(0)} ms of samples\n`);
print('self time by file (or package)', byFile);
print('self time by function', byFunction);
