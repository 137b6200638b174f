// The whole story with real parts: an operator enables PagerDuty for a tenant, its admin
// activates AI access, registers a PagerDuty server with an API key, approves tools, builds a
// toolset and an access profile, and issues a user token; the official MCP SDK then lists and
// calls tools as that user against the PagerDuty simulator, and the audit log names the user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctl, ctlJson, connect, simRequests, header, unique, env, issueToken } from './lib.mjs';

const ACTIVATION =
  'Activation required. AI access management must be enabled for your tenant before you can use it.';

function setUpTenant(slug) {
  ctl(['tenant', 'create', slug]);
  ctl(['catalog', 'enable', 'pagerduty', '--tenant', slug]);
  ctl(['user', 'create', `admin@${slug}.example`, '--tenant', slug, '--role', 'admin']);
  return issueToken(`admin@${slug}.example`, slug);
}

test('an admin-configured user lists exactly the allowed tools and calls PagerDuty through Bastion', async () => {
  const slug = unique('acme');
  const admin = setUpTenant(slug);
  const as = { token: admin };

  // Until activation the edge answers with the activation message.
  ctl(['user', 'create', `ana@${slug}.example`, '--tenant', slug], as);
  const anaToken = issueToken(`ana@${slug}.example`, slug, as);
  await assert.rejects(connect(slug, anaToken), (err) => {
    assert.match(String(err.message), new RegExp(ACTIVATION.replace(/\./g, '\\.')));
    return true;
  });

  ctl(['tenant', 'activate', slug], as);
  ctl(['server', 'register', 'pagerduty', '--tenant', slug, '--type', 'pagerduty', '--auth', 'api-key',
       '--tool-policy', 'require-review'], as);
  ctl(['credential', 'set-api-key', 'pagerduty', '--tenant', slug, '--actor-email', 'alice@acme.example',
       '--access', 'full'],
      { ...as, input: `${env.BASTION_SIM_API_KEY}\n` });
  ctl(['tools', 'approve', 'pagerduty', 'list_incidents', 'create_incident', 'get_incident', '--tenant', slug], as);
  ctl(['toolset', 'create', 'oncall', '--tenant', slug, '--server', 'pagerduty',
       '--tools', 'list_incidents,create_incident'], as);
  ctl(['profile', 'create', 'responders', '--tenant', slug, '--toolsets', 'oncall',
       '--members', `user:ana@${slug}.example`], as);

  const { client, transport } = await connect(slug, anaToken);
  try {
    const listed = await client.listTools();
    assert.deepEqual(listed.tools.map((t) => t.name).sort(), ['create_incident', 'list_incidents']);
    const listTool = listed.tools.find((t) => t.name === 'list_incidents');
    assert.equal(listTool.annotations.readOnlyHint, true);
    assert.equal(listTool.inputSchema.type, 'object');

    const incidents = await client.callTool({ name: 'list_incidents', arguments: { statuses: ['triggered'] } });
    assert.equal(incidents.isError, false, JSON.stringify(incidents.content));
    assert.ok(Array.isArray(incidents.structuredContent.incidents));

    const before = (await simRequests()).length;
    const title = `Checkout is down ${slug}`;
    const created = await client.callTool({
      name: 'create_incident',
      arguments: { incident: { title, service: { id: 'PSAPI01', type: 'service_reference' } } },
    });
    assert.equal(created.isError, false, JSON.stringify(created.content));
    assert.equal(created.structuredContent.title ?? created.structuredContent.incident?.title, title);
    const posts = (await simRequests()).slice(before).filter((r) => r.method === 'POST' && r.path === '/incidents');
    assert.equal(posts.length, 1);
    assert.equal(header(posts[0], 'from'), 'alice@acme.example');
    assert.match(String(header(posts[0], 'authorization')), /^Token/);

    // Approved but not granted to Ana: refused with the decision's reason, never sent upstream.
    const denied = await client.callTool({ name: 'get_incident', arguments: { incident_id: 'PINC001' } });
    assert.equal(denied.isError, true);
    assert.match(denied.content[0].text, /refused/i);

    const badArgs = await client.callTool({ name: 'list_incidents', arguments: { limit: 'ten' } });
    assert.equal(badArgs.isError, true);
    assert.match(badArgs.content[0].text, /limit/);
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }

  // Every call is in the audit log under Ana's name, allowed or denied.
  let events = [];
  for (let i = 0; i < 30 && events.length < 4; i++) {
    events = ctlJson(['audit', 'list', '--tenant', slug, '--user', `ana@${slug}.example`], as);
    if (events.length < 4) await new Promise((r) => setTimeout(r, 200));
  }
  const byTool = (name) => events.filter((e) => e.tool === name);
  assert.equal(byTool('create_incident').length, 1);
  assert.equal(byTool('get_incident').length, 1);
  assert.match(JSON.stringify(byTool('get_incident')[0]), /DENY|denied/i);
  for (const e of events) assert.equal(e.user_email ?? e.userEmail, `ana@${slug}.example`);

  // Switching the tenant off reaches clients at once with the activation message.
  ctl(['tenant', 'deactivate', slug], as);
  await new Promise((r) => setTimeout(r, 2200));  // the edge remembers allowed access for 2 s
  await assert.rejects(connect(slug, anaToken), (err) => {
    assert.match(String(err.message), /Activation required/);
    return true;
  });
});

test('a token of one tenant gets nothing from another tenant', async () => {
  const a = unique('alpha');
  const b = unique('beta');
  const adminA = setUpTenant(a);
  setUpTenant(b);
  ctl(['tenant', 'activate', a], { token: adminA });
  await assert.rejects(connect(b, adminA), (err) => {
    assert.match(String(err.message), /404|not found/i);
    return true;
  });
  assert.throws(() => ctl(['user', 'list', '--tenant', b], { token: adminA }), /NOT_FOUND/);
});
