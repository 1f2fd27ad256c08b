'use strict';
/*
 * Browser tests of the wschatd web client (data/www).
 *
 * playwright-core drives Debian's /usr/bin/chromium (headless) against the
 * real daemon: one per test, on 127.0.0.1 with a kernel-chosen port.  Every
 * browser context is a separate user with its own storage.  Screenshots of
 * the desktop and phone layouts in both themes go to
 * tests/browser/artifacts/ under the current directory (the build dir).
 *
 * Environment:
 *   WSCHATD          the daemon binary            (set by make check)
 *   WSCHATD_WEBROOT  the web client's directory  (set by make check)
 *   CHROMIUM         the browser (default /usr/bin/chromium)
 *   CI=true          a missing browser or playwright-core fails, not skips
 *   BROWSER_TESTS    comma separated substrings: run only matching tests
 *   BROWSER_JOBS     tests run at once (default 2; each has its own daemon)
 *   WSCHATD_VERBOSE  print the daemon's stderr when a test fails
 *
 * Exit status: 0 all passed, 1 some failed, 77 skipped, 99 hard error.
 * Only processes started here are stopped, by pid.
 */

const fs = require('fs');
const path = require('path');
const os = require('os');
const { spawn } = require('child_process');
const { AsyncLocalStorage } = require('async_hooks');

const HERE = __dirname;
const REPO = path.resolve(HERE, '..', '..');
const CI = process.env.CI === 'true';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WSCHATD = process.env.WSCHATD || path.join(REPO, 'src', 'wschatd');
const WEBROOT = process.env.WSCHATD_WEBROOT || path.join(REPO, 'data', 'www');
const ARTIFACTS = path.resolve(process.cwd(), 'tests', 'browser', 'artifacts');
const VERBOSE = !!process.env.WSCHATD_VERBOSE;
const ONLY = (process.env.BROWSER_TESTS || '').split(',').map(s => s.trim()).filter(Boolean);

const JOBS = Math.max(1, Number(process.env.BROWSER_JOBS) || 2);
const TEST_TIMEOUT_MS = 40000;     /* one test */
const SUITE_TIMEOUT_MS = 150000;   /* the whole run, a last resort */
const WAIT_MS = 8000;              /* one expectation in the page */
const START_TIMEOUT_MS = 10000;    /* daemon start (may run under ASan) */
const STOP_TIMEOUT_MS = 6000;      /* daemon stop: it waits 1.5 s for workers */

const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'runtime error:', 'LeakSanitizer'];

function skipOrFail(why) {
  if (CI) {
    console.error('FAIL: ' + why + ' (CI=true: the browser tests must run)');
    process.exit(1);
  }
  console.error('SKIP: ' + why);
  process.exit(77);
}

/* playwright-core from tests/browser/node_modules next to this file, or
 * from $NODE_PATH (e.g. for make distcheck, whose tree has no node_modules). */
let pw;
let pwDir;
try {
  pwDir = path.dirname(require.resolve('playwright-core/package.json', { paths: [HERE] }));
  pw = require(pwDir);
} catch (e) {
  skipOrFail('playwright-core is not installed (npm ci --prefix ' + HERE + '): ' + e.message.split('\n')[0]);
}
try {
  fs.accessSync(CHROMIUM, fs.constants.X_OK);
} catch (e) {
  skipOrFail(CHROMIUM + ' is not installed (apt-get install chromium)');
}
try {
  fs.accessSync(WSCHATD, fs.constants.X_OK);
} catch (e) {
  console.error('ERROR: the daemon ' + WSCHATD + ' is missing; set WSCHATD');
  process.exit(99);
}

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

class AssertionError extends Error {}

function assert(cond, msg) {
  if (!cond) throw new AssertionError(msg);
}

function assertEq(actual, expected, what) {
  if (actual !== expected) {
    throw new AssertionError(what + ': expected ' + show(expected) + ', got ' + show(actual));
  }
}

function show(v) {
  const s = JSON.stringify(v);
  return s && s.length > 300 ? s.slice(0, 300) + '…(' + s.length + ' chars)' : s;
}

function indent(text, prefix) {
  return String(text).replace(/\n$/, '').split('\n').map(l => '#   ' + (prefix || '') + l).join('\n');
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(what + ': timed out after ' + ms + ' ms')), ms);
    })
  ]).finally(() => clearTimeout(timer));
}

/* As root, wschatd chroots (by default to its state directory, which need
 * not exist here): an empty temporary directory, removed at exit; "/" for
 * a sanitizer build, whose leak check at exit needs /proc. */
let chrootDir = null;
function chrootArg() {
  if (chrootDir !== null) return chrootDir;
  let asan = false;
  try { asan = fs.readFileSync(WSCHATD).includes('__asan_init'); } catch (e) { /* ignore */ }
  if (asan) return (chrootDir = '/');
  chrootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wschatd-chroot-'));
  fs.chmodSync(chrootDir, 0o755);
  process.on('exit', () => { try { fs.rmdirSync(chrootDir); } catch (e) { /* ignore */ } });
  return chrootDir;
}

function userArgs() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return [];
  let passwd = '';
  try { passwd = fs.readFileSync('/etc/passwd', 'utf8'); } catch (e) { /* ignore */ }
  return ['--user', /^_wschatd:/m.test(passwd) ? '_wschatd' : 'nobody', '--chroot', chrootArg()];
}

/* ------------------------------------------------------------------ */
/* the daemon                                                          */

const allDaemons = new Set();      /* running */
const finishedDaemons = [];        /* stopped: their stderr is checked at the end */

class Daemon {
  constructor(extra) {
    this.extra = extra || [];
    this.proc = null;
    this.port = 0;
    this.stderr = '';
    this.exited = null;
  }

  get base() { return 'http://127.0.0.1:' + this.port + '/'; }

  async start(port) {
    const want = port || 0;
    /* The port of a daemon that just stopped may need a moment. */
    const deadline = Date.now() + (want ? 5000 : 0);
    for (;;) {
      try {
        return await this._start(want);
      } catch (e) {
        if (!want || Date.now() >= deadline || !/in use/i.test(e.message)) throw e;
        await sleep(200);
      }
    }
  }

  _start(port) {
    const args = ['--foreground', '--listen', '127.0.0.1:' + port, '--webroot', WEBROOT,
      '--config', '/dev/null'].concat(userArgs(), this.extra);
    this.stderr = '';
    this.exited = null;
    const proc = spawn(WSCHATD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    allDaemons.add(this);
    proc.stderr.setEncoding('utf8');
    this.closed = new Promise(resolve => proc.once('close', resolve));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        fail(new Error('wschatd did not report its port within ' + START_TIMEOUT_MS + ' ms'));
        this.kill();
      }, START_TIMEOUT_MS);
      let done = false;
      const fail = err => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(new Error(err.message + '\n--- wschatd stderr ---\n' + this.stderr));
      };
      proc.stderr.on('data', chunk => {
        this.stderr += chunk;
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(this.stderr);
        if (m && !done) {
          done = true;
          clearTimeout(timer);
          this.port = Number(m[1]);
          resolve(this);
        }
      });
      proc.on('error', err => fail(err));
      proc.on('exit', (code, signal) => {
        this.exited = { code, signal };
        allDaemons.delete(this);
        finishedDaemons.push(this);
        fail(new Error('wschatd exited during start (' + (signal || code) + ')'));
      });
    });
  }

  alive() { return this.proc !== null && this.exited === null; }

  kill() {
    if (this.alive()) {
      try { process.kill(this.proc.pid, 'SIGKILL'); } catch (e) { /* gone */ }
    }
  }

  /* SIGTERM, wait for the exit (SIGKILL if it hangs); return the status. */
  async stop() {
    if (!this.proc) return null;
    if (this.alive()) {
      const exited = new Promise(resolve => this.proc.once('exit', () => resolve()));
      try { process.kill(this.proc.pid, 'SIGTERM'); } catch (e) { /* gone */ }
      let timer;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise(resolve => { timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS); })
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.kill();
        await withTimeout(exited, 3000, 'wschatd exit after SIGKILL').catch(() => {});
        throw new Error('wschatd (pid ' + this.proc.pid + ') ignored SIGTERM for ' +
          STOP_TIMEOUT_MS + ' ms and was killed');
      }
    }
    return this.exited;
  }

  sanitizerReport() {
    return SANITIZER_MARKERS.some(m => this.stderr.includes(m)) ? this.stderr : '';
  }
}

/* ------------------------------------------------------------------ */
/* the browser                                                         */

let browser = null;
/* The running test: its log lines and the problems its pages report
 * (uncaught exceptions, CSP violations, console errors). */
const current = new AsyncLocalStorage();

function log(line) {
  const t = current.getStore();
  if (t) t.lines.push('# ' + line);
  else console.log('# ' + line);
}

const DESKTOP = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 };
const PHONE = {
  viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) ' +
    'Chrome/126.0 Mobile Safari/537.36'
};

async function launchBrowser() {
  /* launch() gives chromium a fresh temporary profile (--user-data-dir)
   * of its own and removes it on close; newContext() then isolates the
   * users from each other. */
  browser = await pw.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run']
  });
}

async function newContext(opts) {
  /* Reduced motion: no entry animations to wait for (the look is the same). */
  const ctx = await browser.newContext(Object.assign({ locale: 'en-US', reducedMotion: 'reduce' },
    DESKTOP, opts || {}));
  ctx.setDefaultTimeout(WAIT_MS);
  return ctx;
}

function watchPage(page, label) {
  const t = current.getStore();
  const problems = t ? t.problems : [];
  page.on('pageerror', err => problems.push(label + ': uncaught ' + err.message));
  page.on('console', msg => {
    const text = msg.text();
    const where = (msg.location() && msg.location().url) || '';
    if (msg.type() === 'error' && !/WebSocket connection to .* failed/.test(text) &&
        !/ERR_CONNECTION_REFUSED/.test(text) && !/favicon\.ico$/.test(where)) {
      problems.push(label + ': console error: ' + text);
    }
    if (/Content.Security.Policy/i.test(text)) problems.push(label + ': CSP: ' + text);
  });
}

/* A user: a browser context with the chat page, joined under `name`. */
async function openChat(daemon, name, opts) {
  opts = opts || {};
  const ctx = await newContext(opts.context);
  const page = await ctx.newPage();
  watchPage(page, name);
  await page.goto(daemon.base, { waitUntil: 'load' });
  if (opts.join === false) return { ctx, page, name };
  await joinAs(page, name);
  if (opts.expectJoin !== false) await waitJoined(page, name);
  return { ctx, page, name };
}

async function joinAs(page, name) {
  await page.waitForSelector('#name-input', { state: 'visible' });
  await page.fill('#name-input', name);
  await page.press('#name-input', 'Enter');
}

async function waitJoined(page, name) {
  await page.waitForFunction(n => {
    const ov = document.getElementById('name-overlay');
    const st = document.getElementById('status');
    const names = Array.from(document.querySelectorAll('#users .user-name')).map(e => e.textContent);
    return ov.hidden && st.dataset.state === 'connected' &&
      st.textContent.includes('Connected') && names.includes(n);
  }, name, { timeout: WAIT_MS });
}

async function closeUser(user) {
  if (user && user.ctx) await user.ctx.close().catch(() => {});
}

/* What the message list shows. */
function readMessages(page) {
  return page.$$eval('#messages .msg', nodes => nodes.map(n => ({
    id: n.getAttribute('data-id'),
    from: n.querySelector('.from') ? n.querySelector('.from').textContent : null,
    text: n.querySelector('.text') ? n.querySelector('.text').textContent : null,
    own: n.classList.contains('own'),
    history: n.classList.contains('history'),
    time: n.querySelector('time') ? n.querySelector('time').textContent : null,
    datetime: n.querySelector('time') ? n.querySelector('time').getAttribute('datetime') : null
  })));
}

function readNotices(page) {
  return page.$$eval('#messages .notice .notice-body', nodes => nodes.map(n => n.textContent));
}

function readUsers(page) {
  return page.evaluate(() => ({
    names: Array.from(document.querySelectorAll('#users .user-name')).map(e => e.textContent),
    count: document.getElementById('user-count').textContent
  }));
}

async function waitForMessage(page, from, text, timeout) {
  try {
    await page.waitForFunction(([f, t]) => Array.from(document.querySelectorAll('#messages .msg'))
      .some(n => n.querySelector('.from').textContent === f && n.querySelector('.text').textContent === t),
    [from, text], { timeout: timeout || WAIT_MS });
  } catch (e) {
    const got = await readMessages(page).catch(() => []);
    throw new AssertionError('message from ' + show(from) + ' with text ' + show(text) +
      ' did not appear; the list shows ' + show(got.map(m => [m.from, m.text])));
  }
}

async function waitForNotice(page, text) {
  try {
    await page.waitForFunction(t => Array.from(document.querySelectorAll('#messages .notice-body'))
      .some(n => n.textContent === t), text, { timeout: WAIT_MS });
  } catch (e) {
    throw new AssertionError('notice ' + show(text) + ' did not appear; notices: ' +
      show(await readNotices(page).catch(() => [])));
  }
}

async function waitForUsers(page, names) {
  const want = names.slice().sort();
  try {
    await page.waitForFunction(w => {
      const got = Array.from(document.querySelectorAll('#users .user-name')).map(e => e.textContent).sort();
      return JSON.stringify(got) === JSON.stringify(w) &&
        document.getElementById('user-count').textContent === String(w.length);
    }, want, { timeout: WAIT_MS });
  } catch (e) {
    throw new AssertionError('user list should be ' + show(want) + ', is ' + show(await readUsers(page)));
  }
}

/* Type into the composer and press Enter, like a person. */
async function say(page, text) {
  await page.focus('#message-input');
  await page.fill('#message-input', text);
  await page.press('#message-input', 'Enter');
}

/* ------------------------------------------------------------------ */
/* puppets: extra room members driven from a page with plain WebSockets */

async function openPuppets(daemon) {
  const ctx = await newContext();
  const page = await ctx.newPage();
  watchPage(page, 'puppets');
  /* Same origin as the chat, but not the chat page itself. */
  await page.goto(daemon.base + 'healthz');
  await page.evaluate(() => {
    const bots = new Map();
    const url = 'ws://' + location.host + '/ws';
    window.__bots = bots;
    window.botJoin = name => new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const bot = { ws, name, events: [] };
      ws.onmessage = ev => {
        const msg = JSON.parse(ev.data);
        bot.events.push(msg);
        if (msg.type === 'welcome') { bots.set(name, bot); resolve(msg.name); }
        if (msg.type === 'error' && !bots.has(name)) reject(new Error(name + ': ' + msg.code));
      };
      ws.onopen = () => ws.send(JSON.stringify({ type: 'join', name }));
      ws.onerror = () => reject(new Error(name + ': websocket error'));
    });
    window.botSay = (name, text) => new Promise((resolve, reject) => {
      const bot = bots.get(name);
      const before = bot.events.length;
      bot.ws.send(JSON.stringify({ type: 'message', text }));
      const t0 = Date.now();
      (function poll() {
        if (bot.events.slice(before).some(e => e.type === 'message' && e.from === name && e.text === text)) resolve();
        else if (Date.now() - t0 > 5000) reject(new Error(name + ': no echo of ' + text));
        else setTimeout(poll, 10);
      })();
    });
    window.botLeave = name => new Promise(resolve => {
      const bot = bots.get(name);
      bots.delete(name);
      bot.ws.onclose = () => resolve();
      bot.ws.close(1000);
    });
  });
  return {
    ctx,
    page,
    join: name => page.evaluate(n => window.botJoin(n), name),
    say: (name, text) => page.evaluate(([n, t]) => window.botSay(n, t), [name, text]),
    leave: name => page.evaluate(n => window.botLeave(n), name),
    close: () => ctx.close().catch(() => {})
  };
}

/* ------------------------------------------------------------------ */
/* the tests                                                           */

/* Every test gets a daemon of its own, started with `args` (null: none),
 * so tests can run at once without seeing each other's users. */
const tests = [];
function test(name, fn, args) { tests.push({ name, fn, args: args === undefined ? [] : args }); }

test('the page loads under the CSP and every control has an accessible name', async d => {
  const u = await openChat(d, 'lab', { join: false });
  try {
    const resp = await u.page.request.get(d.base);
    assert(/default-src 'self'/.test(resp.headers()['content-security-policy'] || ''),
      'the daemon sends a Content-Security-Policy with the page');
    /* Only same-origin resources. */
    const foreign = await u.page.evaluate(() => performance.getEntriesByType('resource')
      .map(e => e.name).filter(n => !n.startsWith(location.origin)));
    assertEq(foreign.length, 0, 'resources from other hosts ' + show(foreign));

    const unnamed = () => u.page.evaluate(() => {
      function name(el) {
        if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
        const by = el.getAttribute('aria-labelledby');
        if (by) return by.split(/\s+/).map(id => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
        if (el.labels && el.labels.length) return Array.from(el.labels).map(l => l.textContent).join(' ').trim();
        return (el.textContent || '').trim() || el.getAttribute('title') || '';
      }
      return Array.from(document.querySelectorAll('button, input, textarea, select, a[href], [role="log"], [role="dialog"]'))
        .filter(el => !name(el)).map(el => el.outerHTML.slice(0, 120));
    });
    const before = await unnamed();
    assertEq(before.length, 0, 'controls without an accessible name on the name prompt');
    /* The name prompt has the focus. */
    assertEq(await u.page.evaluate(() => document.activeElement && document.activeElement.id), 'name-input',
      'focused element on the name prompt');

    await joinAs(u.page, 'lab');
    await waitJoined(u.page, 'lab');
    const after = await unnamed();
    assertEq(after.length, 0, 'controls without an accessible name in the chat');
    assertEq(await u.page.evaluate(() => document.activeElement && document.activeElement.id), 'message-input',
      'focused element after joining');
  } finally {
    await closeUser(u);
  }
});

test('two users chat both ways; own messages set apart; local time; focus stays; Enter and Shift+Enter', async d => {
  /* Two different time zones: the same event shows each reader's local time. */
  const alice = await openChat(d, 'alice', { context: { timezoneId: 'Asia/Tokyo' } });
  const bob = await openChat(d, 'bob', { context: { timezoneId: 'America/New_York' } });
  try {
    await say(alice.page, 'hi bob, how are you?');
    await waitForMessage(bob.page, 'alice', 'hi bob, how are you?');
    await waitForMessage(alice.page, 'alice', 'hi bob, how are you?');

    /* bob answers with the send button; a message over two lines with Shift+Enter. */
    await bob.page.focus('#message-input');
    await bob.page.keyboard.type('fine, thanks!');
    await bob.page.keyboard.press('Shift+Enter');
    await bob.page.keyboard.type('and you?');
    assertEq(await bob.page.inputValue('#message-input'), 'fine, thanks!\nand you?', 'Shift+Enter adds a new line');
    await bob.page.click('#send-button');
    await waitForMessage(alice.page, 'bob', 'fine, thanks!\nand you?');
    await waitForMessage(bob.page, 'bob', 'fine, thanks!\nand you?');
    assertEq(await bob.page.inputValue('#message-input'), '', 'the composer is empty after sending');
    assertEq(await bob.page.evaluate(() => document.activeElement.id), 'message-input',
      'the input keeps the focus after clicking send');

    await alice.page.keyboard.type('great');
    await alice.page.keyboard.press('Enter');
    await waitForMessage(bob.page, 'alice', 'great');
    assertEq(await alice.page.evaluate(() => document.activeElement.id), 'message-input',
      'the input keeps the focus after Enter');

    const a = await readMessages(alice.page);
    const b = await readMessages(bob.page);
    const aOwn = a.find(m => m.text === 'hi bob, how are you?');
    const aOther = a.find(m => m.from === 'bob');
    const bOther = b.find(m => m.text === 'hi bob, how are you?');
    assert(aOwn.own && !aOther.own && !bOther.own, 'only the sender\'s own messages are marked own');
    /* Own and other messages sit on different sides. */
    const sides = await alice.page.evaluate(() => {
      const rows = Array.from(document.querySelectorAll('#messages .msg'));
      const box = sel => rows.find(r => r.matches(sel)).querySelector('.bubble').getBoundingClientRect();
      return { own: box('.own').right, other: box(':not(.own)').left, width: document.getElementById('messages').clientWidth };
    });
    assert(sides.own > sides.width * 0.8 && sides.other < sides.width * 0.5,
      'own messages are right, others left: ' + show(sides));

    /* Local time: the same event, 13-14 hours apart. */
    const fmt = (iso, tz) => new Date(iso).toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit', timeZone: tz });
    assertEq(aOwn.time, fmt(aOwn.datetime, 'Asia/Tokyo'), 'time shown in Tokyo');
    assertEq(bOther.time, fmt(bOther.datetime, 'America/New_York'), 'time shown in New York');
    assert(aOwn.time !== bOther.time, 'the two readers see their own local time');
    assertEq(aOwn.from, 'alice', 'the sender of a message');
  } finally {
    await closeUser(alice);
    await closeUser(bob);
  }
});

test('join and leave notices; the user list and its count follow', async d => {
  const carol = await openChat(d, 'carol');
  let dave = null;
  try {
    await waitForUsers(carol.page, ['carol']);
    dave = await openChat(d, 'Dave');
    await waitForNotice(carol.page, 'Dave joined');
    await waitForUsers(carol.page, ['carol', 'Dave']);
    await waitForUsers(dave.page, ['carol', 'Dave']);
    const badge = await carol.page.textContent('#users .me .you-badge');
    assertEq(badge, 'you', 'own entry in the user list');

    await closeUser(dave);
    dave = null;
    await waitForNotice(carol.page, 'Dave left');
    await waitForUsers(carol.page, ['carol']);
  } finally {
    await closeUser(carol);
    await closeUser(dave);
  }
});

test('a duplicate name is refused visibly and the user can pick another', async d => {
  const erin = await openChat(d, 'Erin');
  const other = await openChat(d, 'x', { join: false });
  try {
    for (const dup of ['Erin', '  eRIN ']) {
      await joinAs(other.page, dup);
      await other.page.waitForFunction(() => /taken/i.test(document.getElementById('name-error').textContent));
      assert(await other.page.isVisible('#name-error'), 'the error is visible');
      assert(await other.page.isVisible('#name-overlay'), 'the name prompt stays');
      assertEq(await other.page.getAttribute('#name-input', 'aria-invalid'), 'true', 'the field is marked invalid');
      assertEq(await other.page.evaluate(() => document.activeElement.id), 'name-input', 'the field keeps the focus');
    }
    await fs.promises.mkdir(ARTIFACTS, { recursive: true });
    await other.page.screenshot({ path: path.join(ARTIFACTS, 'desktop-light-name-taken.png') });

    /* Invalid names are refused in place as well. */
    await joinAs(other.page, 'n'.repeat(33));
    await other.page.waitForFunction(() => /too long/i.test(document.getElementById('name-error').textContent));
    assert(await other.page.isVisible('#name-overlay'), 'the name prompt stays on an invalid name');

    /* Typing clears the error; another name works. */
    await other.page.fill('#name-input', 'Erin2');
    assertEq(await other.page.isVisible('#name-error'), false, 'the error clears when typing');
    await other.page.click('#name-submit');
    await waitJoined(other.page, 'Erin2');
    await waitForUsers(erin.page, ['Erin', 'Erin2']);
  } finally {
    await closeUser(erin);
    await closeUser(other);
  }
});

test('markup in names and messages shows as text and never runs; only http(s) links are clickable', async d => {
  const evilName = '<img src=x onerror=__pwned=1>';   /* 29 of 32 */
  const evilText = '<script>window.__pwned=2</script><b>bold</b><img src=x onerror="window.__pwned=3">' +
    ' <a href="javascript:window.__pwned=4">click</a> &amp; &lt;';
  const linkText = 'see https://example.org/docs?a=1&b=2, javascript:alert(1) ftp://example.org/f ' +
    'data:text/html,<b>x</b> and (http://example.com/x_(y)).';
  const victim = await openChat(d, 'victim');
  const evil = await openChat(d, evilName);
  try {
    await say(evil.page, evilText);
    await say(evil.page, linkText);
    for (const page of [victim.page, evil.page]) {
      await waitForMessage(page, evilName, evilText);
      await waitForMessage(page, evilName, linkText);
    }
    await waitForNotice(victim.page, evilName + ' joined');
    await waitForUsers(victim.page, ['victim', evilName]);
    await sleep(300);   /* give an injected handler a chance to run */
    for (const page of [victim.page, evil.page]) {
      const r = await page.evaluate(() => ({
        pwned: window.__pwned,
        injected: document.querySelectorAll('#messages img, #messages script, #messages b, #users img, #users b').length,
        links: Array.from(document.querySelectorAll('#messages .text a')).map(a => ({
          href: a.getAttribute('href'), text: a.textContent, rel: a.rel, target: a.target
        })),
        title: document.title
      }));
      assertEq(r.pwned, undefined, 'injected code ran');
      assertEq(r.injected, 0, 'elements created from user markup');
      assertEq(JSON.stringify(r.links.map(l => l.text)),
        JSON.stringify(['https://example.org/docs?a=1&b=2', 'http://example.com/x_(y)']), 'clickable links');
      assertEq(r.links[0].href, 'https://example.org/docs?a=1&b=2', 'link target');
      assert(r.links.every(l => /noopener/.test(l.rel) && /noreferrer/.test(l.rel) && l.target === '_blank'),
        'links open safely in a new tab: ' + show(r.links));
    }
  } finally {
    await closeUser(victim);
    await closeUser(evil);
  }
});

test('a 4,000-character message and emoji with right-to-left text arrive intact', async d => {
  const frank = await openChat(d, 'frank');
  const gina = await openChat(d, 'gina 🌷');
  try {
    let long = '';
    for (let i = 0; long.length < 4000; i++) long += 'word' + i + ' ';
    long = long.slice(0, 3990) + 'END' + 'x'.repeat(7);
    assertEq(long.length, 4000, 'test text length');
    await say(frank.page, long);
    await waitForMessage(gina.page, 'frank', long);

    const intl = 'Grüße 👋🏽 👩‍👩‍👧 🇩🇪 — שלום עולם! مرحبا بالعالم 123 — 中文 ' + '\u200f' + 'done';
    await say(gina.page, intl);
    await waitForMessage(frank.page, 'gina 🌷', intl);
    await waitForMessage(gina.page, 'gina 🌷', intl);

    /* A long unbroken word wraps inside the bubble instead of widening the page. */
    const unbroken = 'A'.repeat(600);
    await say(frank.page, unbroken);
    await waitForMessage(gina.page, 'frank', unbroken);
    const widths = await gina.page.evaluate(() => {
      const m = document.getElementById('messages');
      const rows = Array.from(m.querySelectorAll('.msg'));
      return { scroll: m.scrollWidth, client: m.clientWidth, maxRight: Math.max(...rows.map(r => r.getBoundingClientRect().right)) };
    });
    assert(widths.scroll <= widths.client && widths.maxRight <= widths.client + 300,
      'long messages wrap (no horizontal overflow): ' + show(widths));

    /* More than the server's limit is refused before sending, with a visible counter. */
    await frank.page.fill('#message-input', 'y'.repeat(4097));
    assert(await frank.page.isDisabled('#send-button'), 'send is disabled over the limit');
    await frank.page.waitForFunction(() => /too long/i.test(document.getElementById('message-error').textContent));
  } finally {
    await closeUser(frank);
    await closeUser(gina);
  }
});

test('the history from the welcome is shown above the live messages', async d => {
  let puppets = null;
  let reader = null;
  try {
    puppets = await openPuppets(d);
    await puppets.join('hank');
    for (const t of ['one', 'two', 'three', 'four']) await puppets.say('hank', t);
    reader = await openChat(d, 'ivy');
    await waitForMessage(reader.page, 'hank', 'four');
    await puppets.say('hank', 'five (live)');
    await waitForMessage(reader.page, 'hank', 'five (live)');
    const msgs = await readMessages(reader.page);
    assertEq(JSON.stringify(msgs.map(m => [m.text, m.history])),
      JSON.stringify([['two', true], ['three', true], ['four', true], ['five (live)', false]]),
      'history (the last 3) before the live message');
    /* Order in the list: divider, history, own join notice, live message. */
    const order = await reader.page.$$eval('#messages > *', nodes => nodes.map(n =>
      n.classList.contains('msg') ? 'msg:' + n.querySelector('.text').textContent :
        n.classList.contains('notice') ? 'notice:' + n.textContent.replace(/·.*$/, '').trim() :
          n.classList.contains('divider') ? 'divider:' + n.textContent.trim() : n.className));
    const iHist = order.indexOf('divider:Earlier messages');
    const iJoin = order.findIndex(s => s.startsWith('notice:You joined as ivy'));
    const iLive = order.indexOf('msg:five (live)');
    assert(iHist >= 0 && iHist < order.indexOf('msg:two') && order.indexOf('msg:four') < iJoin && iJoin < iLive,
      'history, then the join, then live messages: ' + show(order));
  } finally {
    await closeUser(reader);
    if (puppets) await puppets.close();
  }
}, ['--history', '3']);

test('scrolling stays at the bottom unless the reader has scrolled up', async d => {
  let puppets = null;
  let reader = null;
  try {
    reader = await openChat(d, 'reader', { context: PHONE });
    puppets = await openPuppets(d);
    await puppets.join('talker');
    for (let i = 1; i <= 30; i++) await puppets.say('talker', 'line ' + i + '\nsecond row of ' + i);
    await waitForMessage(reader.page, 'talker', 'line 30\nsecond row of 30');
    const bottomGap = () => reader.page.evaluate(() => {
      const m = document.getElementById('messages');
      return m.scrollHeight - m.scrollTop - m.clientHeight;
    });
    await reader.page.waitForFunction(() => {
      const m = document.getElementById('messages');
      return m.scrollHeight - m.scrollTop - m.clientHeight < 2;
    });
    /* The reader scrolls up: new messages leave the position alone. */
    /* Wait for its scroll event: the page's own listener, registered
     * first, has then seen the reader leave the bottom (a busy machine
     * may take longer than any fixed pause); and until the position has
     * settled at the top (layout still catching up with the earlier
     * messages may have moved it back down once). */
    for (let tries = 0; tries < 20; tries++) {
      await reader.page.evaluate(() => new Promise(resolve => {
        const m = document.getElementById('messages');
        if (m.scrollTop === 0) return resolve();
        m.addEventListener('scroll', () => resolve(), { once: true });
        m.scrollTop = 0;
        setTimeout(resolve, 2000);
      }));
      await sleep(100);
      if (await reader.page.evaluate(() => document.getElementById('messages').scrollTop) === 0) break;
    }
    await puppets.say('talker', 'while you were reading');
    await waitForMessage(reader.page, 'talker', 'while you were reading');
    assertEq(await reader.page.evaluate(() => document.getElementById('messages').scrollTop), 0,
      'the reader\'s scroll position is kept');
    await reader.page.waitForSelector('#jump-button', { state: 'visible' });
    assert(/1 new message/.test(await reader.page.textContent('#jump-button')), 'the jump button counts new messages');
    await reader.page.click('#jump-button');
    await reader.page.waitForFunction(() => {
      const m = document.getElementById('messages');
      return m.scrollHeight - m.scrollTop - m.clientHeight < 2;
    });
    await reader.page.waitForSelector('#jump-button', { state: 'hidden' });
    /* Back at the bottom, it follows again. */
    await puppets.say('talker', 'and one more');
    await waitForMessage(reader.page, 'talker', 'and one more');
    await sleep(100);
    assert(await bottomGap() < 2, 'follows new messages at the bottom');
    /* No horizontal overflow on a phone. */
    const over = await reader.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(over <= 0, 'the page is not wider than the phone: ' + over);
  } finally {
    await closeUser(reader);
    if (puppets) await puppets.close();
  }
});

/* A throwaway self-signed certificate for 127.0.0.1, made with the openssl
 * command when the suite loads; removed at exit. */
const TLS_DIR = fs.mkdtempSync(path.join(require('os').tmpdir(), 'wschatd-browser-tls-'));
process.on('exit', () => fs.rmSync(TLS_DIR, { recursive: true, force: true }));
const TLS_CERT = path.join(TLS_DIR, 'cert.pem');
const TLS_KEY = path.join(TLS_DIR, 'key.pem');
let tlsCertError = null;
try {
  require('child_process').execFileSync('openssl', ['req', '-x509', '-newkey', 'ec',
    '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', TLS_KEY, '-out', TLS_CERT,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
  { stdio: 'ignore', timeout: 30000 });
} catch (e) {
  tlsCertError = e;
}

test('over https:// the page joins over wss:// and chats with a plain http:// user', async d => {
  assert(!tlsCertError, 'the openssl command made no test certificate: ' + (tlsCertError || {}).message);
  let m = null;
  const deadline = Date.now() + WAIT_MS;
  while (!(m = /listening on 127\.0\.0\.1:(\d+) with TLS/.exec(d.stderr)) && Date.now() < deadline) await sleep(50);
  assert(m, 'the daemon logs its TLS listener');
  const tlsBase = 'https://127.0.0.1:' + m[1] + '/';
  const sockets = [];
  const secure = await openChat({ base: tlsBase }, 'sam', {
    context: { ignoreHTTPSErrors: true },
    join: false
  });
  secure.page.on('websocket', ws => sockets.push(ws.url()));
  const plain = await openChat(d, 'pat');
  try {
    assertEq(secure.page.url(), tlsBase, 'the page came over https');
    await joinAs(secure.page, 'sam');
    await waitJoined(secure.page, 'sam');
    assertEq(sockets[0], 'wss://127.0.0.1:' + m[1] + '/ws', 'the page\'s WebSocket');
    await waitForUsers(plain.page, ['pat', 'sam']);
    await say(secure.page, 'sent over TLS');
    await waitForMessage(plain.page, 'sam', 'sent over TLS');
    await say(plain.page, 'sent in the clear');
    await waitForMessage(secure.page, 'pat', 'sent in the clear');
  } finally {
    await closeUser(secure);
    await closeUser(plain);
  }
}, ['--tls-listen', '127.0.0.1:0', '--tls-cert', TLS_CERT, '--tls-key', TLS_KEY]);

test('the page reconnects and rejoins under the same name after the daemon restarts', async () => {
  let d = await new Daemon().start();
  const port = d.port;
  let jo = null;
  let kim = null;
  try {
    jo = await openChat(d, 'Jo');
    kim = await openChat(d, 'kim', { context: PHONE });
    await waitForUsers(jo.page, ['Jo', 'kim']);
    await say(jo.page, 'before the restart');
    await waitForMessage(kim.page, 'Jo', 'before the restart');

    let t = Date.now();
    await d.stop();
    log('daemon stopped in ' + (Date.now() - t) + ' ms');
    for (const u of [jo, kim]) {
      await u.page.waitForFunction(() => {
        const st = document.getElementById('status');
        return st.dataset.state === 'reconnecting' && /Reconnecting/.test(st.textContent);
      });
    }
    assert(await jo.page.isVisible('#conn-banner'), 'a banner tells that the connection is lost');
    /* While disconnected the composer cannot send. */
    await jo.page.fill('#message-input', 'typed while offline');
    assert(await jo.page.isDisabled('#send-button'), 'send is disabled while disconnected');
    await fs.promises.mkdir(ARTIFACTS, { recursive: true });
    await jo.page.screenshot({ path: path.join(ARTIFACTS, 'desktop-light-reconnecting.png') });
    await kim.page.screenshot({ path: path.join(ARTIFACTS, 'phone-light-reconnecting.png') });

    d = await new Daemon().start(port);
    t = Date.now();
    for (const u of [jo, kim]) {
      await waitJoined(u.page, u.name);
      log(u.name + ' rejoined ' + (Date.now() - t) + ' ms after the restart');
      await waitForUsers(u.page, ['Jo', 'kim']);
      await waitForNotice(u.page, 'You rejoined as ' + u.name);
    }
    assert(!await jo.page.isVisible('#conn-banner'), 'the banner goes away when rejoined');
    /* The old conversation stays, the draft is kept and can be sent now. */
    assertEq(await jo.page.inputValue('#message-input'), 'typed while offline', 'the draft survives');
    assert(!await jo.page.isVisible('#name-overlay'), 'no name prompt after a restart');
    await jo.page.press('#message-input', 'Enter');
    await waitForMessage(kim.page, 'Jo', 'typed while offline');
    assert((await readMessages(kim.page)).some(m => m.text === 'before the restart'),
      'messages from before the restart are still shown');
  } finally {
    await closeUser(jo);
    await closeUser(kim);
    await d.stop();
  }
}, null);

/* A conversation to look at: history from several people, then live.
 * One scene per layout; both themes are shot from the same page. */
async function screenshotScene(d, layout) {
  const device = layout === 'phone' ? PHONE : DESKTOP;
  const shots = [];
  const shoot = async (page, file) => {
    file = path.join(ARTIFACTS, file);
    await page.screenshot({ path: file });
    shots.push(file);
    log('screenshot: ' + file);
  };
  const eachTheme = async (page, fn) => {
    for (const theme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: theme });
      await page.waitForFunction(t => matchMedia('(prefers-color-scheme: ' + t + ')').matches, theme);
      await fn(theme);
    }
  };
  let puppets = null;
  let viewer = null;
  let prompt = null;
  try {
    await fs.promises.mkdir(ARTIFACTS, { recursive: true });
    puppets = await openPuppets(d);
    for (const n of ['Maya', 'Jonas', 'Priya', 'Sam']) await puppets.join(n);
    const script = [
      ['Maya', 'Morning all! Did the 2.4 release go out last night? ☕'],
      ['Jonas', 'It did — rolled out at 23:10, no alarms since.'],
      ['Sam', 'Nice work. I\'m writing the release notes now.'],
      ['Priya', 'The changelog draft is here: https://example.org/releases/2.4'],
      ['Maya', 'Thanks Priya 🙌'],
      ['Jonas', 'Two things left for today:\n1. dark theme polish on phones\n2. the reconnect banner'],
      ['Sam', 'I\'ll take the reconnect banner.'],
      ['Sam', 'Should be done before lunch.']
    ];
    for (const [who, text] of script) await puppets.say(who, text);
    await puppets.leave('Sam');

    viewer = await openChat(d, 'Sam', { context: device });
    await puppets.join('Leo');
    await waitForNotice(viewer.page, 'Leo joined');
    await puppets.say('Leo', 'Hi everyone 👋 just got my account set up.');
    await waitForMessage(viewer.page, 'Leo', 'Hi everyone 👋 just got my account set up.');
    await say(viewer.page, 'Welcome, Leo! Ask away if anything is unclear.');
    await waitForMessage(viewer.page, 'Sam', 'Welcome, Leo! Ask away if anything is unclear.');
    await puppets.say('Priya', 'Welcome aboard!');
    await waitForMessage(viewer.page, 'Priya', 'Welcome aboard!');
    await viewer.page.fill('#message-input', 'Sounds good');
    await eachTheme(viewer.page, theme => shoot(viewer.page, layout + '-' + theme + '.png'));

    if (layout === 'phone') {
      /* The user list is a drawer on phones. */
      await viewer.page.click('#users-toggle');
      await viewer.page.waitForSelector('#sidebar.open');
      await viewer.page.waitForFunction(() => {
        const r = document.getElementById('sidebar').getBoundingClientRect();
        return Math.abs(r.right - window.innerWidth) < 1;
      });
      await eachTheme(viewer.page, theme => shoot(viewer.page, layout + '-' + theme + '-users.png'));
    }

    /* The name prompt, refusing a name in use. */
    prompt = await openChat(d, 'Sam', { context: device, expectJoin: false });
    await prompt.page.waitForFunction(() => /taken/.test(document.getElementById('name-error').textContent));
    await eachTheme(prompt.page, theme => shoot(prompt.page, layout + '-' + theme + '-name.png'));
    for (const f of shots) assert(fs.statSync(f).size > 10000, 'screenshot ' + f + ' looks empty');
  } finally {
    await closeUser(prompt);
    await closeUser(viewer);
    if (puppets) await puppets.close();
  }
}

for (const layout of ['desktop', 'phone']) {
  test('screenshots: ' + layout + ' layout, light and dark themes', d => screenshotScene(d, layout));
}

/* ------------------------------------------------------------------ */
/* runner                                                              */

async function cleanup() {
  if (browser) await withTimeout(browser.close(), 10000, 'browser close').catch(() => {});
  for (const d of Array.from(allDaemons)) {
    await d.stop().catch(() => d.kill());
  }
}

async function main() {
  const watchdog = setTimeout(() => {
    console.error('Bail out! the browser suite took longer than ' + SUITE_TIMEOUT_MS + ' ms');
    for (const d of allDaemons) d.kill();
    process.exit(99);
  }, SUITE_TIMEOUT_MS);
  watchdog.unref();

  const selected = tests.filter(t => !ONLY.length || ONLY.some(o => t.name.includes(o)));
  const t0 = Date.now();
  let failed = 0;
  console.log('1..' + selected.length);
  try {
    await launchBrowser();
    console.log('# ' + CHROMIUM + ' ' + browser.version() + ', playwright-core ' +
      require(path.join(pwDir, 'package.json')).version + ' from ' + pwDir);
    console.log('# wschatd ' + WSCHATD + ', webroot ' + WEBROOT + ', ' + JOBS + ' tests at once');
  } catch (e) {
    console.error('Bail out! ' + (e.stack || e.message));
    await cleanup();
    return 99;
  }

  /* Run JOBS tests at once; report them in order. */
  async function runOne(t) {
    const started = Date.now();
    const store = { lines: [], problems: [] };
    let error = null;
    let d = null;
    try {
      await current.run(store, async () => {
        if (t.args) d = await new Daemon(t.args).start();
        await withTimeout(Promise.resolve(d).then(t.fn), TEST_TIMEOUT_MS, t.name);
      });
      if (store.problems.length) error = new AssertionError('problems in the page:\n  ' + store.problems.join('\n  '));
    } catch (e) {
      error = e;
    }
    /* The daemon must have lived through the test and stop cleanly. */
    if (d) {
      const died = !d.alive();
      const st = await d.stop().catch(e => ({ error: e }));
      let why = died ? 'wschatd died during the test (' + show(d.exited) + ')' :
        st && st.error ? st.error.message :
          st && st.code !== 0 ? 'wschatd exited with ' + (st.signal || st.code) + ' after SIGTERM' : '';
      if (why && !error) error = new Error(why + '\n--- wschatd stderr ---\n' + d.stderr);
      if (error && VERBOSE) store.lines.push(indent(d.stderr, 'wschatd: '));
    }
    return { error, lines: store.lines, ms: Date.now() - started };
  }
  const results = new Array(selected.length);
  let next = 0;
  let reported = 0;
  const report = () => {
    while (reported < selected.length && results[reported]) {
      const t = selected[reported];
      const r = results[reported];
      reported++;
      if (r.lines.length) console.log(r.lines.join('\n'));
      if (r.error) {
        failed++;
        console.log('not ok ' + reported + ' - ' + t.name + ' (' + r.ms + ' ms)');
        let text = r.error instanceof AssertionError ? r.error.message : (r.error.stack || String(r.error));
        text = text.replace(/\x1b\[[0-9;]*m/g, '');
        console.log(text.split('\n').map(l => '#   ' + l).join('\n'));
      } else {
        console.log('ok ' + reported + ' - ' + t.name + ' (' + r.ms + ' ms)');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(JOBS, selected.length) }, async () => {
    while (next < selected.length) {
      const i = next++;
      results[i] = await runOne(selected[i]);
      report();
    }
  }));

  let problems = 0;
  await cleanup();
  /* No daemon may have reported memory errors or leaks (sanitizer builds). */
  for (const d of finishedDaemons) {
    /* The report is written just before the exit: read stderr to its end. */
    await withTimeout(d.closed, 2000, 'stderr of wschatd').catch(() => {});
    const report = d.sanitizerReport();
    if (report) {
      problems++;
      console.log('# FAIL: sanitizer report from wschatd:\n' + indent(report));
    }
  }
  console.log('# ' + (selected.length - failed) + ' passed, ' + failed + ' failed' +
    (problems ? ', ' + problems + ' problems with the daemon' : '') + ' in ' +
    ((Date.now() - t0) / 1000).toFixed(1) + ' s; artifacts in ' + ARTIFACTS);
  return failed || problems ? 1 : 0;
}

process.on('unhandledRejection', err => {
  console.error('unhandled rejection: ' + (err && err.stack || err));
});

main().then(code => process.exit(code), async err => {
  console.error('Bail out! ' + (err && err.stack || err));
  for (const d of allDaemons) d.kill();
  process.exit(99);
});
