// The sign-in flow once in a real browser: Debian's Chromium, headless, driven by puppeteer-core.
// The MCP SDK client starts it, the browser signs in at the IdP's form and approves Bastion's
// consent page (screenshot kept as a test artifact, accessibility checked with axe-core), and the
// code reaches the client's loopback redirect like it would for Claude Code or Cursor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { env, mcpUrl, rememberSecret, setUpSignInTenant } from './lib.mjs';

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const artifacts = env.BASTION_E2E_ARTIFACTS || `${env.BASTION_E2E_STATE || '/tmp'}/artifacts`;

test('a person signs an MCP client in with a real browser', { skip: !chromium && 'chromium is not installed', timeout: 120000 }, async () => {
  // The client's loopback redirect (RFC 8252): where the browser lands with the code.
  let resolveCode;
  const codeArrived = new Promise((r) => { resolveCode = r; });
  const catcher = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    resolveCode(url);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>Done</title><p>You can close this window.</p>');
  });
  await new Promise((r) => catcher.listen(0, '127.0.0.1', r));
  const redirect = `http://127.0.0.1:${catcher.address().port}/callback`;

  const state = {};
  const provider = {
    get redirectUrl() { return redirect; },
    get clientMetadata() {
      return { client_name: 'Browser test client', redirect_uris: [redirect], token_endpoint_auth_method: 'none',
               grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] };
    },
    clientInformation: () => state.client,
    saveClientInformation: (c) => { state.client = c; },
    tokens: () => state.tokens,
    saveTokens: (t) => { state.tokens = t; rememberSecret(t.access_token); rememberSecret(t.refresh_token); },
    redirectToAuthorization: (url) => { state.url = url; },
    saveCodeVerifier: (v) => { state.verifier = v; },
    codeVerifier: () => state.verifier,
  };
  let browser;
  try {
    setUpSignInTenant('signin-c');
    const transport = new StreamableHTTPClientTransport(mcpUrl('signin-c'), { authProvider: provider });
    const client = new Client({ name: 'browser-test', version: '1' });
    await assert.rejects(client.connect(transport), UnauthorizedError);

    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 390, height: 844 });  // a phone
    await page.goto(state.url.toString(), { waitUntil: 'domcontentloaded' });
    await page.type('input[name=email]', 'dee@example.com');
    await page.type('input[name=password]', env.BASTION_IDP_DEMO_PASSWORD);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button[type=submit]')]);
    await page.waitForSelector('button[value=approve]', { timeout: 15000 });
    const text = await page.evaluate(() => document.body.innerText);
    assert.match(text, /Browser test client/);
    assert.match(text, /dee@example\.com/);
    assert.match(text, /list_incidents/);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}/consent.png`, fullPage: true });

    // Accessibility: no serious or critical axe-core violations on the consent page.
    const require = createRequire(import.meta.url);
    // Evaluated through DevTools, which the page's strict CSP (no scripts at all) does not govern.
    await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
    const violations = await page.evaluate(async () => {
      const r = await window.axe.run(document);
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    });
    assert.deepEqual(violations, []);

    await page.click('button[value=approve]');
    const landed = await Promise.race([
      codeArrived,
      new Promise((_, reject) => {
        setTimeout(() => reject(new Error('the browser never reached the client\'s redirect')), 30000).unref();
      }),
    ]);
    assert.ok(landed.searchParams.get('code'));
    await transport.finishAuth(landed.searchParams.get('code'));
    const t2 = new StreamableHTTPClientTransport(mcpUrl('signin-c'), { authProvider: provider });
    const c2 = new Client({ name: 'browser-test', version: '1' });
    await c2.connect(t2);
    const tools = await c2.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'list_incidents'));
    await c2.close();
  } finally {
    if (browser) await browser.close();
    catcher.close();
  }
});
