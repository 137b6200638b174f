// Runs last: no secret the tests handled (client tokens, the PagerDuty API key, the OAuth client
// secret, the operator token) appears in any log line any process of the stack wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';

test('no secret reached a log line of any service', () => {
  const state = process.env.BASTION_E2E_STATE;
  assert.ok(state, 'BASTION_E2E_STATE names the stack directory');
  const seen = existsSync(`${state}/secrets-seen`) ? readFileSync(`${state}/secrets-seen`, 'utf8').split('\n') : [];
  const secrets = [...seen, process.env.BASTION_SIM_API_KEY, 'local-client-secret', process.env.BASTION_ADMIN_TOKEN]
    .filter((s) => s && s.length >= 8);
  assert.ok(secrets.length >= 5, 'the earlier tests registered the tokens they issued');
  const logs = readdirSync(`${state}/logs`).filter((f) => f.endsWith('.log'));
  assert.ok(logs.length >= 5, `every process logs: ${logs}`);
  let lines = 0;
  for (const f of logs) {
    const text = readFileSync(`${state}/logs/${f}`, 'utf8');
    lines += text.split('\n').length;
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `${f} contains a secret (${secret.slice(0, 6)}…)`);
    }
  }
  assert.ok(lines > 20, 'the services logged (the edge writes one line per MCP request)');
});
