// Shared by the fault suite (tests/faults) and the soak command (tests/soak): control of the
// stack deploy/local/stack.sh started (its processes, PostgreSQL, the simulator's faults,
// /metrics), tenants set up with bastionctl, and MCP traffic — one worker per user, each with
// its own session, calling read and write tools over raw HTTP with a client-side deadline and
// an X-Request-Id per call, so every call can be found in the audit log.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';

export const env = process.env;
export const state = env.BASTION_FAULTS_STATE;
export const edges = [env.BASTION_EDGE_BASE_URL, env.BASTION_EDGE2_BASE_URL].filter(Boolean);
const started = Date.now();
export const now = () => Date.now() - started;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- Administration ---------------------------------------------------------------------------

export function ctl(args, { token = env.BASTION_ADMIN_TOKEN, input = '' } = {}) {
  try {
    return execFileSync(env.BASTION_CTL, args, {
      env: { ...env, BASTION_ADMIN_TOKEN: token }, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 256 << 20,
    });
  } catch (err) {
    throw new Error(`bastionctl ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

export async function waitFor(what, predicate, deadlineMs) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > until) throw new Error(`gave up after ${deadlineMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

// ---- The stack's processes (pid files under $state/pids) ------------------------------------

const pidFile = (name) => `${state}/pids/${name}.pid`;
export const pidOf = (name) => Number(fs.readFileSync(pidFile(name), 'utf8').trim());
export const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

// The command line and environment a process was started with, to start it again the same way.
export function commandOf(name) {
  const pid = pidOf(name);
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  const procEnv = Object.fromEntries(fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
    .filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const admin = argv.find((a) => a.startsWith('--admin_address='));
  return { pid, argv, procEnv, adminUrl: admin ? `http://${admin.slice('--admin_address='.length)}` : undefined };
}

export const adminUrl = (name) => commandOf(name).adminUrl;

export async function ready(url) {
  try { return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200; } catch { return false; }
}

export async function startAgain(name, command) {
  const log = fs.openSync(`${state}/logs/${name}.log`, 'a');
  const child = spawn(command.argv[0], command.argv.slice(1), { env: command.procEnv, detached: true, stdio: ['ignore', log, log] });
  child.unref();
  fs.closeSync(log);
  fs.writeFileSync(pidFile(name), `${child.pid}\n`);
  await waitFor(`${name} to be ready again`, () => ready(command.adminUrl), 60000);
}

// SIGTERM, wait for the exit, start again with the same command line, as a supervisor would.
export async function stopProcess(name) {
  const command = commandOf(name);
  process.kill(command.pid, 'SIGTERM');
  await waitFor(`${name} to exit`, () => !alive(command.pid), 30000);
  return command;
}

export async function restart(name) {
  await startAgain(name, await stopProcess(name));
}

// The stack's PostgreSQL (tests/pg/start under $state/pg), stopped and started on the same port.
export function pg(action) {
  const dir = `${state}/pg`;
  const port = new URL(fs.readFileSync(`${dir}/url`, 'utf8').trim()).port;
  const asPostgres = process.getuid() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const cmd = [...asPostgres, '/usr/lib/postgresql/15/bin/pg_ctl', '-D', `${dir}/data`, '-w', '-t', '60'];
  if (action === 'stop') cmd.push('-m', 'fast', 'stop');
  else cmd.push('-l', `${dir}/server.log`, '-o',
                `-c listen_addresses=127.0.0.1 -c port=${port} -k ${dir} -c fsync=off -c synchronous_commit=off ` +
                '-c full_page_writes=off -c max_connections=300', 'start');
  execFileSync(cmd[0], cmd.slice(1), { stdio: 'ignore' });
}

// Replaces the simulator's fault plan (tests/pagerduty_sim/README.md), or clears it with null.
export async function simFaults(plan) {
  const res = await fetch(`${env.BASTION_PAGERDUTY_SIM_URL}/_sim/faults`, plan
    ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(plan) }
    : { method: 'DELETE' });
  if (!res.ok) throw new Error(`simulator /_sim/faults: HTTP ${res.status} ${await res.text()}`);
}

// Prometheus text: {name: {type, value}}, summing a metric's series (labels dropped).
export async function metrics(url) {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const out = {};
  for (const line of text.split('\n')) {
    const type = line.match(/^# TYPE (\S+) (\S+)/);
    if (type) { out[type[1]] = { type: type[2], value: 0 }; continue; }
    if (line === '' || line.startsWith('#')) continue;
    const name = line.match(/^[a-zA-Z_:][a-zA-Z0-9_:]*/)[0];
    if (out[name]) out[name].value += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

// ---- Tenants and traffic -----------------------------------------------------------------------

// Tools each worker calls in turn: reads and a write. PINC0DB is an incident the simulator seeds.
const TOOL_CYCLE = [
  { name: 'list_incidents', arguments: { limit: 5 } },
  { name: 'get_incident', arguments: { incident_id: 'PINC0DB' } },
  { name: 'list_incidents', arguments: { limit: 5 } },
  { name: 'add_note_to_incident', arguments: { incident_id: 'PINC0DB', note: 'load' } },
];
const TOOLS = [...new Set(TOOL_CYCLE.map((t) => t.name))];

// Answers that ran (a result, or an error raised after the call was admitted) versus refusals.
export const RAN = new Set(['ok', 'tool_error', 'rpc_error']);

export class Load {
  constructor({ runId, tenants = 3, usersPerTenant = 2, paceMs = 200, deadlineMs = 30000, renewSessionEvery = 0 }) {
    Object.assign(this, { runId, tenants, usersPerTenant, paceMs, deadlineMs, renewSessionEvery });
    this.calls = [];
    this.phase = 'warmup';
    this.stopping = false;
    this.keepCalls = true;   // the soak keeps only counts and the request ids of calls that ran
    this.counts = {};
    this.ranIds = new Set();
  }

  // Creates the tenants (active, a PagerDuty server with the simulator's API key, tools
  // approved, a toolset and a profile granting it to every user) and issues the users' tokens.
  setUp() {
    this.users = [];
    this.slugs = [];
    for (let t = 0; t < this.tenants; t++) {
      const slug = `load-${this.runId}-${t}`;
      this.slugs.push(slug);
      ctl(['tenant', 'create', slug]);
      ctl(['catalog', 'enable', 'pagerduty', '--tenant', slug]);
      ctl(['tenant', 'activate', slug]);
      ctl(['server', 'register', 'pagerduty', '--tenant', slug, '--type', 'pagerduty', '--auth', 'api-key',
           '--tool-policy', 'approve-all']);
      ctl(['credential', 'set-api-key', 'pagerduty', '--tenant', slug, '--actor-email', 'alice@acme.example',
           '--access', 'full'], { input: `${env.BASTION_SIM_API_KEY}\n` });
      const emails = [];
      for (let u = 0; u < this.usersPerTenant; u++) {
        const email = `user${u}@${slug}.example`;
        ctl(['user', 'create', email, '--tenant', slug]);
        emails.push(email);
      }
      ctl(['toolset', 'create', 'load', '--tenant', slug, '--server', 'pagerduty', '--tools', TOOLS.join(',')]);
      ctl(['profile', 'create', 'load', '--tenant', slug, '--toolsets', 'load',
           '--members', emails.map((e) => `user:${e}`).join(',')]);
      for (const email of emails) this.users.push({ slug, email, token: ctl(['token', 'issue', email, '--tenant', slug]).trim() });
    }
  }

  start() {
    this.workers = this.users.map((u, index) => ({ ...u, index, edge: index % edges.length, n: 0, session: '', sessionCalls: 0 }));
    this.running = this.workers.map((w) => this.#work(w));
  }

  async stop() {
    this.stopping = true;
    await Promise.all(this.running);
  }

  everyWorkerSucceeded() {
    return this.workers.every((w) => w.succeeded);
  }

  #headers(w, session) {
    return {
      'content-type': 'application/json', accept: 'application/json, text/event-stream',
      authorization: `Bearer ${w.token}`, 'mcp-protocol-version': '2025-11-25',
      ...(session ? { 'mcp-session-id': session } : {}),
    };
  }

  #url(w) { return `${edges[w.edge]}/mcp/${w.slug}/pagerduty`; }

  async #initialize(w) {
    while (!this.stopping) {
      try {
        const res = await fetch(this.#url(w), {
          method: 'POST', headers: this.#headers(w, ''), signal: AbortSignal.timeout(this.deadlineMs),
          body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: {
            protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bastion-load', version: '1' } } }),
        });
        await res.text();
        const id = res.headers.get('mcp-session-id');
        if (res.status === 200 && id) { w.session = id; w.sessionCalls = 0; return; }
      } catch {
        w.edge = (w.edge + 1) % edges.length;
      }
      await sleep(500);
    }
  }

  // Ends the session (DELETE), as a client does when it closes; the next call opens a new one.
  async #endSession(w) {
    try {
      const res = await fetch(this.#url(w), { method: 'DELETE', headers: this.#headers(w, w.session),
                                               signal: AbortSignal.timeout(this.deadlineMs) });
      await res.text();
    } catch { /* the next initialize finds a replica */ }
    w.session = '';
  }

  async #work(w) {
    await this.#initialize(w);
    while (!this.stopping) {
      const n = ++w.n;
      const params = TOOL_CYCLE[n % TOOL_CYCLE.length];
      const call = { rid: `f${this.runId}.${this.phase}.${w.index}.${n}`, phase: this.phase, worker: w.index,
                     slug: w.slug, edge: w.edge, tool: params.name, start: now(), end: 0, kind: '', status: 0, message: '' };
      try {
        const res = await fetch(this.#url(w), {
          method: 'POST', headers: { ...this.#headers(w, w.session), 'x-request-id': call.rid },
          signal: AbortSignal.timeout(this.deadlineMs),
          body: JSON.stringify({ jsonrpc: '2.0', id: n, method: 'tools/call', params }),
        });
        call.status = res.status;
        const text = await res.text();
        let reply;
        try { reply = JSON.parse(text); } catch { reply = undefined; }
        if (!reply || reply.jsonrpc !== '2.0') {
          call.kind = 'garbled';
          call.message = `HTTP ${res.status}, not JSON-RPC: ${text.slice(0, 80)}`;
        } else if (res.status === 200 && reply.id === n && reply.result) {
          call.kind = reply.result.isError ? 'tool_error' : 'ok';
          if (reply.result.isError) call.message = String(reply.result.content?.[0]?.text ?? '');
        } else if (res.status === 200 && reply.id === n && reply.error && reply.error.code !== -32002 &&
                   !/cannot record tool calls/.test(reply.error.message)) {
          call.kind = 'rpc_error';
          call.message = `${reply.error.code} ${reply.error.message}`;
        } else {
          call.kind = 'refused';
          call.message = `HTTP ${res.status} ${reply.error?.code ?? ''} ${reply.error?.message ?? ''}`.trim();
          if (res.status === 404 && /Session not found/.test(call.message)) w.session = '';
        }
      } catch (err) {
        if (err.name === 'TimeoutError' || err.name === 'AbortError') {
          call.kind = 'timeout';
          call.message = `no answer within ${this.deadlineMs} ms`;
        } else {
          // The replica is gone (refused or reset): move to the other; the session is valid there.
          call.kind = 'transport';
          call.message = String(err.cause?.code ?? err.message);
          w.edge = (w.edge + 1) % edges.length;
        }
      }
      call.end = now();
      if (call.kind === 'ok') w.succeeded = true;
      this.counts[call.kind] = (this.counts[call.kind] ?? 0) + 1;
      if (RAN.has(call.kind)) this.ranIds.add(call.rid);
      if (this.keepCalls) this.calls.push(call);
      if (w.session && this.renewSessionEvery && ++w.sessionCalls >= this.renewSessionEvery) await this.#endSession(w);
      if (!w.session && !this.stopping) await this.#initialize(w);
      await sleep(this.paceMs);
    }
  }
}

// Every call whose X-Request-Id starts with f<runId>., from the tenants' audit logs: id -> events.
export function auditedRequests(runId, slugs) {
  const audited = new Map();
  for (const slug of slugs) {
    for (const line of ctl(['audit', 'export', '--tenant', slug, '--timeout', '120s']).split('\n')) {
      if (!line.trim()) continue;
      const e = JSON.parse(line);
      const rid = e.request_id ?? e.requestId;
      if (rid && rid.startsWith(`f${runId}.`)) audited.set(rid, (audited.get(rid) ?? 0) + 1);
    }
  }
  return audited;
}

// Waits until no edge holds an audit event in its queue (every one delivered or set aside).
export async function auditQueuesDrained(names, deadlineMs) {
  const urls = names.map(adminUrl);
  await waitFor('the edges\' audit queues to drain', async () => {
    for (const url of urls) if ((await metrics(url)).bastion_edge_audit_queue_depth?.value !== 0) return false;
    return true;
  }, deadlineMs);
}
