// Bad input is answered, never crashes the edge; the official MCP conformance suite and the
// MCP inspector CLI work against it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { ctl, connect, postRaw, unique, edgeBase, issueToken } from './lib.mjs';

const run = promisify(execFile);
let slug;
let token;

before(() => {
  slug = unique('proto');
  ctl(['tenant', 'create', slug]);
  ctl(['catalog', 'enable', 'pagerduty', '--tenant', slug]);
  ctl(['tenant', 'activate', slug]);
  ctl(['server', 'register', 'pagerduty', '--tenant', slug, '--type', 'pagerduty', '--auth', 'api-key',
       '--tool-policy', 'approve-read-only']);
  ctl(['credential', 'set-api-key', 'pagerduty', '--tenant', slug, '--actor-email', 'alice@acme.example'],
      { input: `${process.env.BASTION_SIM_API_KEY}\n` });
  ctl(['user', 'create', `pat@${slug}.example`, '--tenant', slug]);
  ctl(['toolset', 'create', 'readers', '--tenant', slug, '--server', 'pagerduty',
       '--tools', 'list_incidents,list_services']);
  ctl(['profile', 'create', 'everyone', '--tenant', slug, '--toolsets', 'readers',
       '--members', `user:pat@${slug}.example`]);
  token = issueToken(`pat@${slug}.example`, slug);
});

async function session() {
  const res = await postRaw(`/mcp/${slug}/pagerduty`, JSON.stringify({
    jsonrpc: '2.0', id: 1, method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  }), { authorization: `Bearer ${token}` });
  assert.equal(res.status, 200);
  return res.headers.get('mcp-session-id');
}

test('malformed, oversized and out-of-protocol requests get clear errors and the edge stays up', async () => {
  const sid = await session();
  const auth = { authorization: `Bearer ${token}`, 'mcp-session-id': sid };
  const path = `/mcp/${slug}/pagerduty`;

  const parse = await postRaw(path, '{"jsonrpc": "2.0", "id": 1, "method":', auth);
  assert.equal(parse.status, 400);
  assert.equal((await parse.json()).error.code, -32700);

  const batch = await postRaw(path, JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'ping' }]), auth);
  assert.equal((await batch.json()).error.code, -32600);

  const unknown = await postRaw(path, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'sampling/whatever' }), auth);
  assert.equal((await unknown.json()).error.code, -32601);

  const wrongTypes = await postRaw(path, JSON.stringify({
    jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_incidents', arguments: { limit: [1] } },
  }), auth);
  assert.equal((await wrongTypes.json()).result.isError, true);

  const huge = await postRaw(path, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'ping', params: { pad: 'x'.repeat(3 << 20) } }), auth);
  assert.equal(huge.status, 413);

  const noSession = await postRaw(path, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }),
                                  { authorization: `Bearer ${token}` });
  assert.equal(noSession.status, 400);

  const unknownSession = await postRaw(path, JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'ping' }),
                                       { authorization: `Bearer ${token}`, 'mcp-session-id': 'nope' });
  assert.equal(unknownSession.status, 404);

  const noAccept = await fetch(`${edgeBase}${path}`, {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }),
  });
  assert.equal(noAccept.status, 406);

  const noToken = await postRaw(path, JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'ping' }));
  assert.equal(noToken.status, 401);
  assert.match(noToken.headers.get('www-authenticate'), /^Bearer/);

  // Still serving.
  const ping = await postRaw(path, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }), auth);
  assert.deepEqual((await ping.json()).result, {});
});

test('the official MCP conformance scenarios pass', async () => {
  const proxy = spawn(process.execPath, ['auth_proxy.mjs', '0', edgeBase, token], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise((resolve, reject) => {
      proxy.stdout.on('data', (d) => {
        const m = String(d).match(/listening (\d+)/);
        if (m) resolve(m[1]);
      });
      proxy.on('exit', () => reject(new Error('auth proxy exited')));
    });
    const url = `http://localhost:${port}/mcp/${slug}/pagerduty`;
    for (const scenario of ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection']) {
      const out = await run('node_modules/.bin/conformance', ['server', '--url', url, '--scenario', scenario],
                            { timeout: 120000 }).catch((err) => err);
      const text = `${out.stdout ?? ''}${out.stderr ?? ''}`;
      assert.ok(out.code === undefined || out.code === 0, `${scenario} failed:\n${text}`);
      const summary = text.match(/Passed: (\d+)\/(\d+), (\d+) failed/);
      assert.ok(summary, `${scenario}: no result summary:\n${text}`);
      assert.equal(summary[3], '0', `${scenario}:\n${text}`);
      assert.equal(summary[1], summary[2], `${scenario}:\n${text}`);
    }
  } finally {
    proxy.kill();
  }
});

test('the MCP inspector CLI lists the tools', async () => {
  const { stdout } = await run('node_modules/.bin/mcp-inspector', [
    '--cli', `${edgeBase}/mcp/${slug}/pagerduty`, '--transport', 'http',
    '--header', `Authorization: Bearer ${token}`, '--method', 'tools/list',
  ], { timeout: 120000 });
  const names = JSON.parse(stdout).tools.map((t) => t.name).sort();
  assert.deepEqual(names, ['list_incidents', 'list_services']);
});

test('the SDK negotiates an older protocol version and pings', async () => {
  const { client, transport } = await connect(slug, token);
  try {
    await client.ping();
    assert.ok(['2025-11-25', '2025-06-18', '2025-03-26'].includes(transport.protocolVersion ?? '2025-11-25'));
  } finally {
    await transport.terminateSession();
    await client.close();
  }
});

test('a session works on any edge replica, and once ended it is ended on all of them', async () => {
  const second = process.env.BASTION_EDGE2_BASE_URL;
  assert.ok(second, 'the e2e stack runs two edge replicas');
  const sid = await session();  // issued by the first replica
  const path = `/mcp/${slug}/pagerduty`;
  const headers = {
    'content-type': 'application/json', accept: 'application/json, text/event-stream',
    authorization: `Bearer ${token}`, 'mcp-session-id': sid,
  };
  const list = await fetch(`${second}${path}`, {
    method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(list.status, 200);
  assert.ok((await list.json()).result.tools.length > 0);

  const end = await fetch(`${edgeBase}${path}`, { method: 'DELETE', headers });
  assert.equal(end.status, 200);
  let status = 200;
  for (let i = 0; i < 30 && status === 200; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const r = await fetch(`${second}${path}`, {
      method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    });
    status = r.status;
  }
  assert.equal(status, 404);
});

test('a client with an open stream hears tools/list_changed when an admin grants it a tool', async () => {
  let changed;
  const heard = new Promise((resolve) => { changed = resolve; });
  const { client, transport } = await connect(slug, token, {
    listChanged: { tools: { onChanged: (error, tools) => { if (!error) changed(tools.map((t) => t.name).sort()); } } },
  });
  try {
    await new Promise((r) => setTimeout(r, 500));  // the SDK opens its GET stream after initialize
    ctl(['toolset', 'update', 'readers', '--tenant', slug, '--tools', 'list_incidents,list_services,get_incident']);
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no list_changed within 10 s')), 10000));
    const tools = await Promise.race([heard, timeout]);
    assert.deepEqual(tools, ['get_incident', 'list_incidents', 'list_services']);
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
});

test('a user over the rate limit gets answers the SDK hands on: a tool error and a JSON-RPC error with retry advice', async () => {
  // tests/e2e/run gives this tenant's users 2 requests/s (a burst of 4) on both edge replicas.
  const throttled = 'e2e-throttled';
  ctl(['tenant', 'create', throttled]);
  ctl(['catalog', 'enable', 'pagerduty', '--tenant', throttled]);
  ctl(['tenant', 'activate', throttled]);
  ctl(['server', 'register', 'pagerduty', '--tenant', throttled, '--type', 'pagerduty', '--auth', 'api-key',
       '--tool-policy', 'approve-read-only']);
  ctl(['credential', 'set-api-key', 'pagerduty', '--tenant', throttled, '--actor-email', 'alice@acme.example'],
      { input: `${process.env.BASTION_SIM_API_KEY}\n` });
  ctl(['user', 'create', `rex@${throttled}.example`, '--tenant', throttled]);
  ctl(['toolset', 'create', 'readers', '--tenant', throttled, '--server', 'pagerduty', '--tools', 'list_incidents']);
  ctl(['profile', 'create', 'everyone', '--tenant', throttled, '--toolsets', 'readers',
       '--members', `user:rex@${throttled}.example`]);
  const rexToken = issueToken(`rex@${throttled}.example`, throttled);

  const { client, transport } = await connect(throttled, rexToken);
  try {
    // Far more calls at once than the budget: every one is answered, none is a transport failure.
    const calls = await Promise.all(
      Array.from({ length: 12 }, () => client.callTool({ name: 'list_incidents', arguments: {} })));
    const limited = calls.filter((r) => r.isError);
    assert.ok(limited.length > 0, 'some calls should be over the limit');
    for (const r of limited) {
      assert.match(r.content[0].text, /^Rate limited: .* Wait \d+ seconds? and retry\.$/);
    }
    assert.ok(calls.some((r) => !r.isError), 'the calls within the budget run');

    const lists = await Promise.allSettled(Array.from({ length: 8 }, () => client.listTools()));
    const refused = lists.filter((r) => r.status === 'rejected').map((r) => r.reason);
    assert.ok(refused.length > 0, 'some tools/list requests should be over the limit');
    for (const err of refused) {
      assert.ok(err instanceof McpError, `expected an MCP error, got ${err}`);
      assert.equal(err.code, -32002);
      assert.ok(Number.isInteger(err.data.retryAfterSeconds) && err.data.retryAfterSeconds >= 1);
    }
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
});
