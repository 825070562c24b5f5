#!/usr/bin/env node
// `… | node scripts/json-field.mjs data.model_id`: prints one field of the API's JSON answer on stdin, for the
// README's walk-through (no jq needed). An error envelope, or a missing field, is printed to stderr with exit 1,
// so a failed step stops a script instead of leaving an empty variable.
let text = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (text += chunk));
process.stdin.on('end', () => {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    fail(`not JSON: ${text.slice(0, 300)}`);
  }
  if (value && typeof value.code === 'number' && value.code !== 0) fail(`API error ${value.code}: ${value.message}`);
  for (const key of (process.argv[2] ?? '').split('.').filter(Boolean)) value = value?.[key];
  if (value === undefined || value === null) fail(`no field "${process.argv[2]}" in ${text.slice(0, 300)}`);
  process.stdout.write(`${typeof value === 'object' ? JSON.stringify(value) : value}\n`);
});

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
