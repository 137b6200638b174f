// A real OpenID Connect identity provider for local runs and end-to-end tests: npm's
// oidc-provider (a certified OpenID Provider implementation) with one confidential client (Bastion's
// vault) and a few users who sign in with a password on a plain HTML form. It stands in for a
// company's Okta, Entra ID or Keycloak.
//
// Environment:
//   IDP_PORT            port on 127.0.0.1 (0 picks one; the chosen URL is printed as "IDP_URL=...")
//   IDP_CLIENT_ID       the client Bastion uses (default "bastion")
//   IDP_CLIENT_SECRET   its secret (required)
//   IDP_REDIRECT_URIS   comma-separated redirect URIs (Bastion's <issuer>/callback per tenant)
//   IDP_USERS           JSON array of {email, password, name, groups, email_verified?}
import http from 'node:http';
import crypto from 'node:crypto';
import { URLSearchParams } from 'node:url';
import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT || 0);
const clientId = process.env.IDP_CLIENT_ID || 'bastion';
const clientSecret = process.env.IDP_CLIENT_SECRET;
if (!clientSecret) {
  console.error('IDP_CLIENT_SECRET is required');
  process.exit(2);
}
const redirectUris = (process.env.IDP_REDIRECT_URIS || '').split(',').filter(Boolean);
const users = JSON.parse(process.env.IDP_USERS || '[]');
const byEmail = new Map(users.map((u) => [u.email.toLowerCase(), u]));

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:26em;margin:3em auto;padding:1em}
input,button{display:block;width:100%;margin:.5em 0;padding:.6em;font-size:1em}</style></head>
<body><h1>${escape(title)}</h1>${body}</body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10000) throw new Error('form too large');
  }
  return Object.fromEntries(new URLSearchParams(body));
}

async function main() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };

  // The issuer must be known before the provider starts; bind first to learn the port.
  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [signingKey] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: { email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    // Bastion reads identity from the ID token alone (no userinfo call).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx, sub) => {
      const user = byEmail.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({
          sub,
          email: user.email,
          email_verified: user.email_verified !== false,
          name: user.name || user.email,
          groups: user.groups || [],
        }),
      };
    },
    ttl: { Session: 3600, Interaction: 600, Grant: 3600, AuthorizationCode: 60, IdToken: 300, AccessToken: 300 },
  });
  provider.proxy = false;
  const oidc = provider.callback();

  server.on('request', async (req, res) => {
    try {
      const url = new URL(req.url, issuer);
      const m = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
      if (!m) return oidc(req, res);
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        if (req.method === 'POST' && m[2]) {
          const form = await readForm(req);
          const user = byEmail.get(String(form.email || '').toLowerCase());
          if (!user || user.password !== form.password) {
            res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' });
            return res.end(page('Sign in to Example Corp', `<p>Wrong email or password.</p>${loginForm(details.uid)}`));
          }
          return provider.interactionFinished(req, res, { login: { accountId: user.email.toLowerCase() } },
            { mergeWithLastSubmission: false });
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(page('Sign in to Example Corp', loginForm(details.uid)));
      }
      // Consent for Bastion's own client is implied: the company set it up.
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
      if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`sign-in failed: ${err.message}`);
    }
  });

  console.log(`IDP_URL=${issuer}`);
}

function loginForm(uid) {
  return `<form method="post" action="/interaction/${escape(uid)}/login">
<label>Email<input name="email" type="email" autocomplete="username" required autofocus></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
