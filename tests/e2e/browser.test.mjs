// The authorization flow the way a person does it: `make dev`'s stack (scripts/dev.sh) on
// free ports, Debian's Chromium driven headless through playwright-core. Open the authorize
// link, land on the simulator's WeChat page, press Authorize for each account, land on the
// callback's result page; then authorizer-info and authorizer-token answer for both accounts
// through `cargo lambda invoke`, and `make dev` shows each authorization arrive as an event from
// the bus. An administrator whose browser prefers Chinese reads the result page in Chinese.
// Screenshots of the result pages go to target/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import { chromium } from 'playwright-core';

const root = path.resolve(import.meta.dirname, '../..');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const accounts = [
  { appid: 'wxf8b4f85f3a794e77', kind: 'official_account', permissions: ['Message management', 'User management', 'Account services'] },
  { appid: 'wx3b6a1d9c0e2f4a57', kind: 'mini_program', permissions: ['Mini Program account management'] },
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function portInUse(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

let dev;
let ports;
let authorizeUrl;
let devOutput = '';

before(async () => {
  assert.ok(fs.existsSync(chromiumPath), `${chromiumPath} is missing: run the tests with \`make test\`, which installs Debian's chromium`);
  ports = { DEV_PORT: await freePort(), SIM_PORT: await freePort(), DYNAMODB_PORT: await freePort(), MOTO_PORT: await freePort() };
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('WECHAT_') || name.startsWith('AUTH_') || name.startsWith('AWS_ENDPOINT_URL')) delete env[name];
  }
  const started = Date.now();
  dev = spawn('bash', ['scripts/dev.sh'], {
    cwd: root,
    env: { ...env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  authorizeUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`make dev was not ready in time:\n${devOutput}`)), 300_000);
    const onData = (chunk) => {
      devOutput += chunk;
      const match = devOutput.match(/DEV_READY (\S+)/);
      if (match) {
        clearTimeout(timer);
        console.log(`make dev was ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        resolve(match[1]);
      }
    };
    dev.stdout.on('data', onData);
    dev.stderr.on('data', onData);
    dev.on('exit', (code) => reject(new Error(`make dev exited (${code}):\n${devOutput}`)));
  });
});

after(async () => {
  if (!dev || dev.exitCode !== null) return;
  const exited = once(dev, 'exit');
  process.kill(-dev.pid, 'SIGTERM');
  await exited;
  // Nothing is left behind: every port the stack used is free again.
  for (const [name, port] of Object.entries(ports)) {
    assert.equal(await portInUse(port), false, `${name} ${port} is still in use after the stack stopped`);
  }
});

function invoke(fn, payload) {
  const out = execFileSync(path.join(root, '.venv/bin/cargo-lambda'), [
    'lambda', 'invoke', fn, '--invoke-address', '127.0.0.1', '--invoke-port', String(ports.DEV_PORT),
    '--output-format', 'json', '--data-ascii', JSON.stringify(payload),
  ], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out);
}

// Each phase's time goes to the test's output, so that a slow run says where it was slow.
function lap(label, since) {
  console.log(`${label} in ${((Date.now() - since) / 1000).toFixed(1)} s`);
  return Date.now();
}

test('both accounts authorize in a real browser and are then served', async () => {
  let since = Date.now();
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  since = lap('chromium started', since);
  try {
    for (const account of accounts) {
      const page = await browser.newPage();
      await page.goto(authorizeUrl);
      // WeChat's (simulated) authorization page lists the accounts.
      await page.waitForSelector('#sim-authorization-page');
      const heading = await page.textContent('#sim-authorization-page');
      assert.ok(heading.includes('授权给第三方平台') && heading.includes('Authorize'), heading);
      await page.click(`#authorize-${account.appid}`);
      // Back on the platform: the callback's result page.
      await page.waitForSelector('#result');
      assert.equal((await page.textContent('#result')).trim(), 'Authorization complete');
      assert.equal((await page.textContent('#authorizer-appid')).trim(), account.appid);
      const permissions = await page.textContent('#permissions');
      for (const name of account.permissions) assert.ok(permissions.includes(name), `${name} in ${permissions}`);
      fs.mkdirSync(path.join(root, 'target'), { recursive: true });
      await page.screenshot({ path: path.join(root, `target/e2e-result-${account.kind}.png`), fullPage: true });
      await page.close();
      since = lap(`chromium: ${account.kind} authorized`, since);
    }
  } finally {
    await browser.close();
  }

  // Each authorization reached the bus through the table's stream and the notifier, and make
  // dev printed the event the rule delivered.
  for (const account of accounts) {
    const line = `[event] Authorizer Authorized: ${account.appid}`;
    const deadline = Date.now() + 60_000;
    while (!devOutput.includes(line)) {
      assert.ok(Date.now() < deadline, `no "${line}" in make dev's output:\n${devOutput}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  since = lap('both authorizations printed from the bus', since);

  for (const account of accounts) {
    const info = invoke('authorizer-info', { authorizer_appid: account.appid });
    assert.equal(info.status, 'authorized');
    assert.equal(info.account_kind, account.kind);
    const token = invoke('authorizer-token', { authorizer_appid: account.appid });
    assert.equal(token.authorizer_appid, account.appid);
    assert.ok(token.authorizer_access_token.startsWith('sim-authorizer-token-'));
    assert.ok(token.expires_at > Date.now() / 1000 + 3600);
  }
});

test("the README's make dev commands work verbatim against the running stack", () => {
  // Every command of the README's "What you see with make dev" section, on this stack's ports.
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.split('### What you see with `make dev`')[1].split('\n### ')[0];
  const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1].split('\n'))
    .filter((line) => line.startsWith('.venv/bin/cargo-lambda ') || line.startsWith('curl '));
  assert.ok(commands.length >= 4, `commands found in the README: ${commands.join('\n')}`);
  for (const command of commands) {
    const onStack = command.replaceAll('9000', String(ports.DEV_PORT)).replaceAll('9100', String(ports.SIM_PORT));
    const out = execFileSync('bash', ['-c', onStack], { cwd: root, encoding: 'utf8' });
    if (command.includes('authorizer_appid') || command.includes('/authorizer-info/')) {
      assert.equal(JSON.parse(out).authorizer_appid, accounts[0].appid, `${command} answered ${out}`);
    } else {
      assert.equal(JSON.parse(out).passed, true, `${command} answered ${out}`);
    }
  }
});

test('an administrator whose browser prefers Chinese reads the result page in Chinese', async () => {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(authorizeUrl);
    await page.waitForSelector('#sim-authorization-page');
    await page.click(`#authorize-${accounts[1].appid}`);
    await page.waitForSelector('#result');
    assert.equal((await page.textContent('#result')).trim(), '授权成功');
    assert.ok((await page.textContent('#account')).includes('小程序'));
    assert.ok((await page.textContent('#permissions')).includes('帐号管理权限（小程序）'));
    await page.screenshot({ path: path.join(root, 'target/e2e-result-zh.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

// A bad setting ends make dev within seconds, naming the variable, before anything is started.
for (const [name, value] of [['WECHAT_ENCODING_AES_KEY', 'short'], ['WECHAT_API_BASE', 'not-a-url']]) {
  test(`make dev with a malformed ${name} stops within 10 s and names it`, async () => {
    const env = { ...process.env, [name]: value };
    for (const port of ['DEV_PORT', 'SIM_PORT', 'DYNAMODB_PORT', 'MOTO_PORT']) env[port] = String(await freePort());
    const started = Date.now();
    const child = spawn('bash', ['scripts/dev.sh'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => { output += c; });
    child.stderr.on('data', (c) => { output += c; });
    const [code] = await once(child, 'exit');
    const elapsed = Date.now() - started;
    assert.notEqual(code, 0, output);
    assert.ok(elapsed < 10_000, `make dev took ${elapsed} ms to refuse ${name}:\n${output}`);
    assert.match(output, new RegExp(`${name} is malformed`), output);
    assert.doesNotMatch(output, /Ready/, output);
  });
}
