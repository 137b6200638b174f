// A bounded load run against a local Bastion edge (loopback only): N requests at concurrency C
// for tools/list (served from the edge's caches) and tools/call list_incidents (the full path:
// governance decision, vault credential cache, PagerDuty simulator). Prints throughput and
// latency percentiles. Usage (after deploy/local/up):
//   . .local/bastion.env && node tests/load/mcp_load.mjs [requests=2000] [concurrency=16]
// The edge's per-user limit (20 requests/s by default) answers most of such a burst with 429;
// to measure throughput, start the stack with higher limits, e.g.
//   BASTION_USER_REQUESTS_PER_SECOND=100000 BASTION_TENANT_REQUESTS_PER_SECOND=100000 \
//   BASTION_CREDENTIAL_CALLS_PER_MINUTE=10000000 deploy/local/up
const url = process.env.BASTION_MCP_URL;
const token = process.env.BASTION_TOKEN;
const total = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);
if (!url || !token) throw new Error('source .local/bastion.env first');
if (!/^http:\/\/(localhost|127\.0\.0\.1)[:/]/.test(url)) throw new Error('loopback targets only');

const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
                  authorization: `Bearer ${token}` };
const init = await fetch(url, { method: 'POST', headers, body: JSON.stringify({
  jsonrpc: '2.0', id: 0, method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'load', version: '1' } } }) });
headers['mcp-session-id'] = init.headers.get('mcp-session-id');

async function run(name, body) {
  const latencies = [];
  let next = 0;
  let errors = 0;
  const statuses = {};
  const start = performance.now();
  const deadline = start + 120_000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total && performance.now() < deadline) {
      const id = next++;
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ ...body, id }) });
      const json = await res.json();
      if (res.status !== 200 || json.error || json.result?.isError) errors++;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(2);
  console.log(`${name}: ${latencies.length} requests, ${errors} errors, ${(latencies.length / seconds).toFixed(0)} req/s, ` +
              `p50 ${p(0.5)} ms, p90 ${p(0.9)} ms, p99 ${p(0.99)} ms, HTTP ${JSON.stringify(statuses)}`);
}

await run('tools/list', { jsonrpc: '2.0', method: 'tools/list' });
await run('tools/call list_incidents', { jsonrpc: '2.0', method: 'tools/call',
                                        params: { name: 'list_incidents', arguments: { limit: 5 } } });
