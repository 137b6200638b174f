// The soak: mixed MCP traffic from several tenants (reads and writes, sessions opened and
// ended) for a long run, sampling each process every minute — resident memory, open file
// descriptors, threads, every gauge on its /metrics (the edge's audit queue depth among them) and
// PostgreSQL's connections — then printing the samples and, per series, a linear fit over the
// second half of the run. A series whose fit still climbs is flagged: it grows without bound.
// Exits non-zero when a series is flagged or a call that ran is missing from the audit log.
//
// Run through tests/soak/run [minutes]; BASTION_SOAK_SAMPLE_SECONDS changes the sampling period.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { env, sleep, now, waitFor, pidOf, alive, adminUrl, metrics, Load, auditedRequests,
         auditQueuesDrained } from '../faults/load.mjs';

const minutes = Number(env.BASTION_SOAK_MINUTES || 60);
const sampleMs = Number(env.BASTION_SOAK_SAMPLE_SECONDS || 60) * 1000;
const PROCESSES = ['tenant', 'vault', 'governance', 'edge', 'edge2', 'pagerduty_sim'];
const runId = Math.random().toString(36).slice(2, 8);
const load = new Load({ runId, tenants: 4, usersPerTenant: 2, paceMs: 250, deadlineMs: 30000, renewSessionEvery: 100 });
load.keepCalls = false;

function procStatus(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
  return { rssMb: field('VmRSS') / 1024, threads: field('Threads'), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

function pgConnections() {
  const url = fs.readFileSync(`${env.BASTION_FAULTS_STATE}/pg/url`, 'utf8').trim();
  return Number(execFileSync('psql', ['-Atq', url, '-c', 'SELECT count(*) FROM pg_stat_activity WHERE backend_type = \'client backend\''],
                              { encoding: 'utf8' }).trim());
}

// One sample: series name -> value.
async function sample() {
  const out = {};
  for (const name of PROCESSES) {
    const pid = pidOf(name);
    if (!alive(pid)) throw new Error(`${name} (pid ${pid}) is gone: see its log`);
    const s = procStatus(pid);
    out[`${name} rss MB`] = s.rssMb;
    out[`${name} fds`] = s.fds;
    out[`${name} threads`] = s.threads;
    if (name === 'pagerduty_sim') continue;
    for (const [metric, { type, value }] of Object.entries(await metrics(adminUrl(name)))) {
      // process_* repeat what /proc says; readiness is not a quantity.
      if (type === 'gauge' && !metric.startsWith('process_') && !metric.endsWith('_ready')) out[`${name} ${metric}`] = value;
    }
  }
  out['postgres connections'] = pgConnections();
  return out;
}

// Least-squares slope of ys over xs.
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i] - mx) * (ys[i] - my); den += (xs[i] - mx) ** 2; }
  return den === 0 ? 0 : num / den;
}

// How much a series may rise over the second half of the run before it counts as growing:
// memory settles in allocator-sized steps, fds, threads and connections move in ones, gauges by
// a few queued items. The simulator is reported but not judged: it keeps every note it is sent.
function allowedRise(series, mean) {
  if (series.startsWith('pagerduty_sim') || series.startsWith('calls')) return Infinity;
  if (series.endsWith('rss MB')) return Math.max(3, 0.05 * mean);
  if (series.endsWith('fds') || series.endsWith('threads') || series === 'postgres connections') return 3;
  return 10;
}

load.setUp();
load.start();
await waitFor('every worker to succeed once', () => load.everyWorkerSucceeded(), 60000);

const samples = [];
const endAt = now() + minutes * 60000;
let last = { ...load.counts };
for (;;) {
  const s = await sample();
  const counts = { ...load.counts };
  const delta = (k) => (counts[k] ?? 0) - (last[k] ?? 0);
  s.calls = ['ok', 'tool_error', 'rpc_error', 'refused', 'transport', 'timeout', 'garbled'].reduce((a, k) => a + delta(k), 0);
  s['calls not ok'] = s.calls - delta('ok');
  last = counts;
  samples.push({ t: now(), values: s });
  const m = (samples.length - 1) * sampleMs / 60000;
  console.log(`sample ${samples.length} at ${m.toFixed(1)} min: edge rss ${s['edge rss MB'].toFixed(1)} MB, ` +
              `edge fds ${s['edge fds']}, audit queue ${s['edge bastion_edge_audit_queue_depth'] ?? '-'}, ` +
              `${s.calls} calls (${s['calls not ok']} not ok)`);
  if (now() + sampleMs > endAt + 1000) break;
  await sleep(sampleMs - ((now() - samples[0].t) % sampleMs));
}
await load.stop();
await auditQueuesDrained(['edge', 'edge2'], 120000);
const audited = auditedRequests(runId, load.slugs);
const ran = load.ranIds.size;
const events = [...load.ranIds].reduce((a, rid) => a + (audited.get(rid) ?? 0), 0);
const lost = [...load.ranIds].filter((rid) => !audited.has(rid)).length;
const doubled = [...audited.values()].filter((v) => v > 1).length;

// ---- Report ------------------------------------------------------------------------------------
const names = Object.keys(samples[0].values);
const hours = samples.map((s) => s.t / 3600000);
const half = Math.floor(samples.length / 2);
const rows = [];
for (const name of names) {
  const ys = samples.map((s) => s.values[name] ?? 0);
  const secondX = hours.slice(half);
  const secondY = ys.slice(half);
  const perHour = secondY.length >= 3 ? slope(secondX, secondY) : 0;
  const rise = perHour * (secondX[secondX.length - 1] - secondX[0]);  // what the fit climbs over the second half
  const mean = secondY.reduce((a, b) => a + b, 0) / secondY.length;
  const q = Math.max(1, Math.floor(secondY.length / 2));
  const tail = secondY.slice(-q).reduce((a, b) => a + b, 0) / q;
  const head = secondY.slice(0, q).reduce((a, b) => a + b, 0) / q;
  const grows = rise > allowedRise(name, mean) && tail > head;
  rows.push({ name, first: ys[0], min: Math.min(...ys), max: Math.max(...ys), last: ys[ys.length - 1], perHour, rise, grows });
}

const fmt = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
const ranFor = ((samples[samples.length - 1].t - samples[0].t) / 60000).toFixed(1);
console.log(`\nSoak: ${ranFor} minutes of traffic sampled ${samples.length} times (every ${sampleMs / 1000} s), ` +
            `${load.users.length} users of ${load.slugs.length} tenants on 2 edge replicas, sessions renewed every 100 calls.`);
console.log(`Calls: ${Object.entries(load.counts).map(([k, v]) => `${k} ${v}`).join(', ')}; ` +
            `${ran} ran, ${events} audit events, ${doubled} doubled.\n`);
console.log('Per minute (RSS MB / open fds):');
const main = ['tenant', 'vault', 'governance', 'edge', 'edge2'];
console.log(`| min | ${main.map((n) => n.padStart(14)).join(' | ')} | audit queue | pg conns | calls |`);
console.log(`|----:|${main.map(() => '---------------:').join('|')}|------------:|---------:|------:|`);
samples.forEach((s, i) => {
  const v = s.values;
  console.log(`| ${String(Math.round(s.t / 60000 - samples[0].t / 60000)).padStart(3)} | ` +
              `${main.map((n) => `${v[`${n} rss MB`].toFixed(1)} / ${v[`${n} fds`]}`.padStart(14)).join(' | ')} | ` +
              `${String(v['edge bastion_edge_audit_queue_depth'] ?? '-').padStart(11)} | ${String(v['postgres connections']).padStart(8)} | ` +
              `${String(v.calls).padStart(5)} |`);
});
console.log('\nEvery series: first, min, max, last, and a linear fit over the second half (its slope per hour, and what it');
console.log('climbs over that half; a series grows when that exceeds what noise allows and the last quarter is above the third):');
console.log('| series | first | min | max | last | slope/h | rise | grows? |');
console.log('|---|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  console.log(`| ${r.name} | ${fmt(r.first)} | ${fmt(r.min)} | ${fmt(r.max)} | ${fmt(r.last)} | ${r.perHour.toFixed(1)} | ${r.rise.toFixed(1)} | ${r.grows ? 'GROWS' : 'no'} |`);
}
const flagged = rows.filter((r) => r.grows);
console.log('');
if (flagged.length) console.log(`GROWING without bound: ${flagged.map((r) => r.name).join(', ')}`);
if (lost !== 0 || doubled) console.log(`AUDIT: ${ran} calls ran, ${lost} have no audit event, ${doubled} have more than one`);
console.log(flagged.length || lost !== 0 || doubled ? 'soak: FAILED' : 'soak: nothing grows without bound; every call that ran is audited once');
process.exit(flagged.length || lost !== 0 || doubled ? 1 : 0);
