'use strict';
// npm run bench [-- --quick]: runs every workload and writes bench/results/latest.json.
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

const workloads = [require('./lockdown')];
const results = [];
for (const w of workloads) {
  const r = w.run();
  results.push(r);
  console.log(`${r.name}: median ${r.median.toFixed(3)} ${r.unit} (min ${r.min.toFixed(3)}, max ${r.max.toFixed(3)}, n=${r.n})${r.target ? ` — target ${r.target}` : ''}`);
}
const out = path.join(__dirname, 'results');
fs.mkdirSync(out, { recursive: true });
const doc = { date: new Date().toISOString(), node: process.version, kernel: os.release(), cpus: os.cpus().length, cpu: os.cpus()[0] && os.cpus()[0].model, results };
fs.writeFileSync(path.join(out, 'latest.json'), JSON.stringify(doc, null, 2));
console.log(`wrote ${path.join(out, 'latest.json')}`);
