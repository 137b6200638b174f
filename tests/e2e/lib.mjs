// Helpers shared by the end-to-end tests: bastionctl, the MCP SDK client, raw HTTP to the edge,
// and the PagerDuty simulator's record of what it received.
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const env = process.env;
export const edgeBase = env.BASTION_EDGE_BASE_URL;
export const simUrl = env.BASTION_PAGERDUTY_SIM_URL;
export const operatorToken = env.BASTION_ADMIN_TOKEN;

// Runs bastionctl with `token` as the admin token; returns stdout. Throws with stderr on failure.
export function ctl(args, { token = operatorToken, input } = {}) {
  try {
    return execFileSync(env.BASTION_CTL, args, {
      env: { ...env, BASTION_ADMIN_TOKEN: token },
      input: input ?? '',
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = new Error(`bastionctl ${args.join(' ')} failed: ${err.stderr || err.message}`);
    e.stderr = String(err.stderr || '');
    e.status = err.status;
    throw e;
  }
}

// Notes a secret the tests handled, so secrets.test.mjs can check no log line holds it.
export function rememberSecret(secret) {
  if (env.BASTION_E2E_STATE && secret) appendFileSync(`${env.BASTION_E2E_STATE}/secrets-seen`, `${secret}\n`);
  return secret;
}

// Issues a client token for `email` and remembers it as a secret.
export function issueToken(email, tenant, options) {
  return rememberSecret(ctl(['token', 'issue', email, '--tenant', tenant], options).trim());
}

export function ctlJson(args, options) {
  return JSON.parse(ctl([...args, '--output', 'json'], options));
}

export function mcpUrl(tenant, server = 'pagerduty') {
  return new URL(`${edgeBase}/mcp/${tenant}/${server}`);
}

// A connected MCP SDK client for `token`.
export async function connect(tenant, token, { capabilities = {}, server = 'pagerduty', listChanged } = {}) {
  const transport = new StreamableHTTPClientTransport(mcpUrl(tenant, server), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'bastion-e2e', version: '1.0.0' }, { capabilities, listChanged });
  await client.connect(transport);
  return { client, transport };
}

// Requests the simulator has received since `since` (an index), Authorization redacted.
export async function simRequests() {
  const res = await fetch(`${simUrl}/_sim/requests`);
  if (!res.ok) throw new Error(`simulator /_sim/requests: ${res.status}`);
  const body = await res.json();
  return Array.isArray(body) ? body : body.requests;
}

export function header(request, name) {
  const h = request.headers || {};
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === name) return v;
  return undefined;
}

export async function postRaw(path, body, headers = {}) {
  return fetch(`${edgeBase}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body,
  });
}

export function unique(prefix) {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

// A tenant whose people sign in at the local IdP (tests/e2e/idp): API-key server on the
// simulator, group `responders` (the IdP's users are in it) granted list_incidents and
// list_services, just-in-time users from example.com.
export function setUpSignInTenant(slug) {
  ctl(['tenant', 'create', slug]);
  ctl(['catalog', 'enable', 'pagerduty', '--tenant', slug]);
  ctl(['tenant', 'activate', slug]);
  ctl(['server', 'register', 'pagerduty', '--tenant', slug, '--type', 'pagerduty', '--auth', 'api-key',
       '--tool-policy', 'approve-read-only']);
  ctl(['credential', 'set-api-key', 'pagerduty', '--tenant', slug, '--actor-email', 'bot@example.com',
       '--access', 'full'], { input: `${env.BASTION_SIM_API_KEY}\n` });
  ctl(['group', 'create', 'responders', '--tenant', slug]);
  ctl(['toolset', 'create', 'oncall', '--tenant', slug, '--server', 'pagerduty', '--tools', 'list_incidents,list_services']);
  ctl(['profile', 'create', 'responders', '--tenant', slug, '--toolsets', 'oncall', '--members', 'group:responders']);
  // The IdP puts groups in the ID token only when asked for the groups scope.
  ctl(['idp', 'set', '--tenant', slug, '--issuer', env.BASTION_IDP_URL, '--client-id', env.BASTION_IDP_CLIENT_ID,
       '--scopes', 'openid,email,profile,groups'], { input: `${env.BASTION_IDP_CLIENT_SECRET}\n` });
  ctl(['idp', 'policy', 'set', '--tenant', slug, '--issuer', env.BASTION_IDP_URL, '--allowed-domains', 'example.com',
       '--groups-claim', 'groups', '--jit-users', 'on']);
}
