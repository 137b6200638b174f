// AI-client sign-in end to end: the official MCP SDK's OAuth client meets Bastion's 401, discovers
// the tenant's authorization server, registers dynamically, and the "browser" signs in at a real OpenID provider (oidc-provider,
// tests/e2e/idp), consents at Bastion, and hands the code back; then tools/list and tools/call,
// refresh, and every way access ends: revocation, refresh-token reuse, a disabled user.
// Client ID metadata documents are not driven from here: the SDK accepts only https document
// URLs; the edge's fetcher and the tenant service test them (services/edge/signin/signin_test.cc,
// services/tenant/signin_service_test.cc).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { ctl, ctlJson, env, edgeBase, mcpUrl, rememberSecret, setUpSignInTenant } from './lib.mjs';

const idpUrl = env.BASTION_IDP_URL;
const password = env.BASTION_IDP_DEMO_PASSWORD;
const REDIRECT = 'http://127.0.0.1:47123/callback';

// An OAuthClientProvider that keeps everything in memory and records where it was sent.
class MemoryProvider {
  constructor() {
    this.store = {};
  }
  get redirectUrl() { return REDIRECT; }
  get clientMetadata() {
    return {
      client_name: 'Bastion e2e client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() { return this.store.client; }
  saveClientInformation(c) { this.store.client = c; }
  tokens() { return this.store.tokens; }
  saveTokens(t) { this.store.tokens = t; rememberSecret(t.access_token); rememberSecret(t.refresh_token); }
  redirectToAuthorization(url) { this.authorizationUrl = url; }
  saveCodeVerifier(v) { this.store.verifier = v; }
  codeVerifier() { return this.store.verifier; }
}

// A minimal browser: follows redirects by hand and keeps cookies per host, as a person's browser
// would between Bastion and the identity provider.
class Browser {
  constructor() { this.jar = new Map(); }
  cookies(url) { return [...(this.jar.get(new URL(url).host) || new Map())].map(([k, v]) => `${k}=${v}`).join('; '); }
  keep(url, res) {
    const host = new URL(url).host;
    const jar = this.jar.get(host) || new Map();
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (attrs.some((a) => /max-age=0/i.test(a)) || value === '') jar.delete(name); else jar.set(name, value);
    }
    this.jar.set(host, jar);
  }
  async request(url, { method = 'GET', form } = {}) {
    const headers = { cookie: this.cookies(url) };
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.keep(url, res);
    return res;
  }
  // Follows redirects until a page or an address outside Bastion and the IdP (the client's).
  async follow(url, options) {
    let res = await this.request(url, options);
    for (let hops = 0; hops < 15 && res.status >= 300 && res.status < 400; hops++) {
      const next = new URL(res.headers.get('location'), url).toString();
      if (!next.startsWith(edgeBase) && !next.startsWith(idpUrl)) return { redirect: next };
      url = next;
      res = await this.request(url);
    }
    return { url, status: res.status, html: await res.text() };
  }
}

function hiddenFields(html) {
  const out = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) out[m[1]] = m[2];
  return out;
}

// Signs `email` in at the IdP from `authorizationUrl` and answers Bastion's consent page.
async function signIn(authorizationUrl, email, { decision = 'approve', browser = new Browser() } = {}) {
  let page = await browser.follow(authorizationUrl.toString());
  assert.ok(page.html, `expected the IdP's sign-in form, got ${JSON.stringify(page).slice(0, 300)}`);
  const action = page.html.match(/action="([^"]+\/login)"/);
  assert.ok(action, `no sign-in form at ${page.url}: ${page.html.slice(0, 300)}`);
  page = await browser.follow(new URL(action[1], page.url).toString(), { method: 'POST', form: { email, password } });
  if (page.redirect) return { redirect: new URL(page.redirect), consentHtml: '' };
  const consentHtml = page.html;
  const fields = hiddenFields(consentHtml);
  const form = consentHtml.match(/<form method="post" action="([^"]+)"/);
  if (page.status !== 200 || !fields.consent_token || !form) return { consentHtml, status: page.status };
  const done = await browser.follow(new URL(form[1], page.url).toString(), { method: 'POST', form: { ...fields, decision } });
  assert.ok(done.redirect, `consent did not redirect: ${JSON.stringify(done).slice(0, 300)}`);
  return { redirect: new URL(done.redirect), consentHtml };
}

async function connectWith(provider, slug) {
  const transport = new StreamableHTTPClientTransport(mcpUrl(slug), { authProvider: provider });
  const client = new Client({ name: 'bastion-e2e-signin', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

// Runs the whole dance and returns a connected client.
async function signedInClient(slug, email, provider = new MemoryProvider()) {
  const transport = new StreamableHTTPClientTransport(mcpUrl(slug), { authProvider: provider });
  const client = new Client({ name: 'bastion-e2e-signin', version: '1.0.0' });
  await assert.rejects(client.connect(transport), UnauthorizedError);
  assert.ok(provider.authorizationUrl, 'the SDK was sent to an authorization URL');
  const { redirect } = await signIn(provider.authorizationUrl, email);
  assert.equal(redirect.origin + redirect.pathname, REDIRECT);
  assert.equal(redirect.searchParams.get('iss'), `${edgeBase}/oauth/${slug}`, 'RFC 9207 iss');
  await transport.finishAuth(redirect.searchParams.get('code'));
  return { ...(await connectWith(provider, slug)), provider, redirect };
}

before(() => {
  setUpSignInTenant('signin-a');
  setUpSignInTenant('signin-b');
});

test('401 challenge points at this URL\'s metadata, which points at the tenant\'s issuer', async () => {
  const res = await fetch(mcpUrl('signin-a'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  assert.equal(res.status, 401);
  const challenge = res.headers.get('www-authenticate');
  const prm = challenge.match(/resource_metadata="([^"]+)"/)[1];
  const meta = await (await fetch(prm)).json();
  assert.equal(meta.resource, mcpUrl('signin-a').toString());
  const as = await (await fetch(`${edgeBase}/.well-known/oauth-authorization-server/oauth/signin-a`)).json();
  assert.equal(as.issuer, meta.authorization_servers[0]);
  assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
});

test('a new user signs in through the company IdP (dynamic registration) and calls a tool', async () => {
  const { client, provider } = await signedInClient('signin-a', 'ana@example.com');
  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  assert.deepEqual(tools, ['list_incidents', 'list_services'], 'the IdP group "responders" granted the toolset');
  const result = await client.callTool({ name: 'list_incidents', arguments: { limit: 1 } });
  assert.equal(result.isError, false, JSON.stringify(result.content));
  assert.ok(provider.store.client.client_id, 'registered dynamically');
  // Just-in-time user, attributed in the audit log.
  const users = ctlJson(['user', 'list', '--tenant', 'signin-a']);
  assert.ok(JSON.stringify(users).includes('ana@example.com'));
  await client.close();
});

test('refresh rotates; presenting the old refresh token again revokes the whole grant', async () => {
  const { client, provider } = await signedInClient('signin-a', 'bo@example.com');
  const first = provider.store.tokens;
  const token = async (form) => {
    const res = await fetch(`${edgeBase}/oauth/signin-a/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: await res.json() };
  };
  const clientId = provider.store.client.client_id;
  const next = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: clientId });
  assert.equal(next.status, 200, JSON.stringify(next.body));
  assert.notEqual(next.body.refresh_token, first.refresh_token);
  rememberSecret(next.body.access_token);
  rememberSecret(next.body.refresh_token);
  const reuse = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: clientId });
  assert.equal(reuse.status, 400);
  assert.equal(reuse.body.error, 'invalid_grant');
  // The family is gone: the newest refresh token fails too, and within seconds so does the
  // access token minted from it.
  const after = await token({ grant_type: 'refresh_token', refresh_token: next.body.refresh_token, client_id: clientId });
  assert.equal(after.body.error, 'invalid_grant');
  await waitForRefusal(next.body.access_token, 'signin-a');
  await client.close().catch(() => {});
});

test('an admin revoking the grant, or disabling the user, ends access within seconds', async () => {
  const { client, provider } = await signedInClient('signin-a', 'cy@example.com');
  const access = provider.store.tokens.access_token;
  const grants = ctlJson(['oauth', 'grants', 'list', '--tenant', 'signin-a', '--user', 'cy@example.com']);
  const list = Array.isArray(grants) ? grants : grants.grants;
  assert.equal(list.length, 1);
  ctl(['oauth', 'grants', 'revoke', list[0].id, '--tenant', 'signin-a']);
  await waitForRefusal(access, 'signin-a');
  await client.close().catch(() => {});

  const second = await signedInClient('signin-a', 'cy@example.com');
  ctl(['user', 'disable', 'cy@example.com', '--tenant', 'signin-a']);
  await waitForRefusal(second.provider.store.tokens.access_token, 'signin-a');
  await second.client.close().catch(() => {});
});

test('a token is good only on the MCP URL it was issued for', async () => {
  const { client, provider } = await signedInClient('signin-a', 'dee@example.com');
  const access = provider.store.tokens.access_token;
  assert.equal((await ping(access, 'signin-a')).status, 200);
  assert.equal((await ping(access, 'signin-b')).status, 401, 'tenant A\'s token on tenant B\'s URL');
  assert.equal((await ping(access, 'signin-a', 'other')).status, 401, 'another server\'s URL');
  await client.close();
});

test('refusals: wrong PKCE verifier, reused code, unregistered redirect, denied consent', async () => {
  const provider = new MemoryProvider();
  const transport = new StreamableHTTPClientTransport(mcpUrl('signin-a'), { authProvider: provider });
  const client = new Client({ name: 'neg', version: '1' });
  await assert.rejects(client.connect(transport), UnauthorizedError);
  const { redirect } = await signIn(provider.authorizationUrl, 'fay@example.com');
  const code = redirect.searchParams.get('code');
  const clientId = provider.store.client.client_id;
  const redeem = (verifier) => fetch(`${edgeBase}/oauth/signin-a/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: REDIRECT,
                                code_verifier: verifier, resource: mcpUrl('signin-a').toString() }).toString(),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const wrong = await redeem('x'.repeat(43));
  assert.equal(wrong.body.error, 'invalid_grant', JSON.stringify(wrong.body));
  const right = await redeem(provider.store.verifier);
  // A code tried with the wrong verifier is spent; either way it cannot be used twice.
  const again = await redeem(provider.store.verifier);
  assert.equal(again.body.error, 'invalid_grant');
  if (right.status === 200) rememberSecret(right.body.access_token);

  const bad = new URL(provider.authorizationUrl);
  bad.searchParams.set('redirect_uri', 'https://evil.example/cb');
  const page = await fetch(bad, { redirect: 'manual' });
  assert.equal(page.status, 400);
  assert.equal(page.headers.get('location'), null, 'never redirects to an unregistered address');

  const denied = await signIn(provider.authorizationUrl, 'fay@example.com', { decision: 'deny' });
  assert.equal(denied.redirect.searchParams.get('error'), 'access_denied');
});

test('a user whose email domain is not allowed cannot sign in', async () => {
  const provider = new MemoryProvider();
  const transport = new StreamableHTTPClientTransport(mcpUrl('signin-b'), { authProvider: provider });
  const client = new Client({ name: 'neg', version: '1' });
  ctl(['idp', 'policy', 'set', '--tenant', 'signin-b', '--issuer', idpUrl, '--allowed-domains', 'other.example',
       '--groups-claim', 'groups', '--jit-users', 'on']);
  await assert.rejects(client.connect(transport), UnauthorizedError);
  const result = await signIn(provider.authorizationUrl, 'ana@example.com');
  assert.ok(!result.redirect, 'no code is issued');
  assert.match(result.consentHtml, /cannot connect/i);
});

async function ping(token, slug, server = 'pagerduty') {
  return fetch(mcpUrl(slug, server), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
               authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {
      protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'ping', version: '1' } } }),
  });
}

async function waitForRefusal(token, slug) {
  const deadline = Date.now() + 20000;
  for (;;) {
    const res = await ping(token, slug);
    if (res.status === 401) return;
    if (Date.now() > deadline) assert.fail(`token still accepted (${res.status}) 20 s after access ended`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
