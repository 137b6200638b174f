// Per-user OAuth end to end: a server in OAuth mode sends a user without a grant to PagerDuty's
// authorize page (the simulator's), the user consents, the edge's /oauth/callback completes the
// grant, and the next call reaches PagerDuty with that user's Bearer token and email.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctl, connect, simRequests, header, unique, issueToken } from './lib.mjs';

test('a user authorizes PagerDuty through /oauth/callback and then calls as themself', async () => {
  const slug = unique('oauth');
  ctl(['tenant', 'create', slug]);
  ctl(['catalog', 'enable', 'pagerduty', '--tenant', slug]);
  ctl(['tenant', 'activate', slug]);
  ctl(['server', 'register', 'pagerduty', '--tenant', slug, '--type', 'pagerduty', '--auth', 'oauth',
       '--tool-policy', 'approve-read-only']);
  ctl(['credential', 'set-oauth-app', 'pagerduty', '--tenant', slug, '--client-id', 'bastion-local',
       '--scopes', 'incidents.read,incidents.write,services.read,users.read'], { input: 'local-client-secret\n' });
  // Alice is who consents at the simulator's PagerDuty; her Bastion account has the same email.
  const email = 'alice@acme.example';
  ctl(['user', 'create', email, '--tenant', slug]);
  ctl(['tools', 'approve', 'pagerduty', 'create_incident', '--tenant', slug]);
  ctl(['toolset', 'create', 'readers', '--tenant', slug, '--server', 'pagerduty',
       '--tools', 'list_incidents,create_incident']);
  ctl(['profile', 'create', 'everyone', '--tenant', slug, '--toolsets', 'readers', '--members', `user:${email}`]);
  const token = issueToken(email, slug);

  const { client, transport } = await connect(slug, token);
  try {
    const first = await client.callTool({ name: 'list_incidents', arguments: {} });
    assert.equal(first.isError, true);
    const link = first.content[0].text.match(/https?:\/\/\S+/);
    assert.ok(link, first.content[0].text);

    // The "browser": PagerDuty's consent redirects to Bastion's callback, which shows a page.
    const consent = await fetch(link[0], { redirect: 'manual' });
    assert.equal(consent.status, 302);
    const callback = consent.headers.get('location');
    assert.match(callback, /\/oauth\/callback\?/);
    const page = await fetch(callback);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /PagerDuty is connected/);

    // Reusing the callback (a replayed code and state) fails cleanly.
    const replay = await fetch(callback);
    assert.equal(replay.status, 400);

    const before = (await simRequests()).length;
    const second = await client.callTool({ name: 'list_incidents', arguments: {} });
    assert.equal(second.isError, false, JSON.stringify(second.content));
    const calls = (await simRequests()).slice(before).filter((r) => r.path === '/incidents');
    assert.ok(calls.length >= 1);
    assert.match(String(header(calls[0], 'authorization')), /^Bearer/);

    // A write goes out as the user: their Bearer token and their email as From.
    const mark = (await simRequests()).length;
    const created = await client.callTool({
      name: 'create_incident',
      arguments: { incident: { title: `OAuth write ${slug}`, service: { id: 'PSAPI01', type: 'service_reference' } } },
    });
    assert.equal(created.isError, false, JSON.stringify(created.content));
    const posts = (await simRequests()).slice(mark).filter((r) => r.method === 'POST' && r.path === '/incidents');
    assert.equal(posts.length, 1);
    assert.match(String(header(posts[0], 'authorization')), /^Bearer/);
    assert.equal(header(posts[0], 'from'), email);
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
});

test('a client that declares URL elicitation gets the authorize link as error -32042', async () => {
  const slug = unique('elicit');
  ctl(['tenant', 'create', slug]);
  ctl(['catalog', 'enable', 'pagerduty', '--tenant', slug]);
  ctl(['tenant', 'activate', slug]);
  ctl(['server', 'register', 'pagerduty', '--tenant', slug, '--type', 'pagerduty', '--auth', 'oauth',
       '--tool-policy', 'approve-read-only']);
  ctl(['credential', 'set-oauth-app', 'pagerduty', '--tenant', slug, '--client-id', 'bastion-local',
       '--scopes', 'incidents.read'], { input: 'local-client-secret\n' });
  const email = `eve@${slug}.example`;
  ctl(['user', 'create', email, '--tenant', slug]);
  ctl(['toolset', 'create', 'readers', '--tenant', slug, '--server', 'pagerduty', '--tools', 'list_incidents']);
  ctl(['profile', 'create', 'everyone', '--tenant', slug, '--toolsets', 'readers', '--members', `user:${email}`]);
  const token = issueToken(email, slug);

  const { client, transport } = await connect(slug, token, { capabilities: { elicitation: { url: {} } } });
  try {
    await assert.rejects(client.callTool({ name: 'list_incidents', arguments: {} }), (err) => {
      assert.equal(err.code, -32042);
      return true;
    });
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
});
