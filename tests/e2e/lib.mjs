// Helpers for the browser tests: a real ferryd on loopback, Debian's
// chromium through playwright-core, and bounded polling.
//
// TLS (tls.test.mjs): makePki() makes a private CA and a server certificate
// with openssl; Ferryd({tls: pki}) adds tls-listen, https-listen, cert and
// key; Participant.launch({trustCa: pki.ca}) gives that chromium a home of
// its own whose NSS database (certutil) trusts the CA.
//
// Environment (set by automake's check, or by hand):
//   FERRYD, FERRYCTL   built binaries (default: $FERRY_BUILDDIR/src/…)
//   FERRY_SRCDIR       source tree (default: two levels up from here)
//   FERRY_BUILDDIR     build tree, for artifacts (default: FERRY_SRCDIR)
//   CHROMIUM           browser (default /usr/bin/chromium)

import {spawn, execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SRCDIR = path.resolve(process.env.FERRY_SRCDIR || path.join(here, '..', '..'));
export const BUILDDIR = path.resolve(process.env.FERRY_BUILDDIR || SRCDIR);
export const FERRYD = process.env.FERRYD || path.join(BUILDDIR, 'src', 'ferryd');
export const FERRYCTL = process.env.FERRYCTL || path.join(BUILDDIR, 'src', 'ferryctl');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = path.join(BUILDDIR, 'tests', 'artifacts');

// Exactly these: no network but loopback, fake camera and microphone
// granted without asking, real host candidates instead of mDNS names.
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// promise, or after ms the value onTimeout, whichever comes first; the timer
// is cleared so that it does not keep node running once promise settles.
export async function within(promise, ms, onTimeout = null) {
  let timer;
  try {
    return await Promise.race([promise,
      new Promise((r) => { timer = setTimeout(() => r(onTimeout), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

// Call fn until it returns a truthy value; throw after timeoutMs with the
// last value or error, so that a failure says what was being waited for.
export async function poll(what, fn, timeoutMs = 15000, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= end) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await sleep(everyMs);
  }
}

function tcpPort(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.on('error', () => resolve(0));
    srv.listen(port, '127.0.0.1', () => {
      const got = srv.address().port;
      srv.close(() => resolve(got));
    });
  });
}

function udpFree(port) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.on('error', () => resolve(false));
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
}

// A loopback port free for TCP (and for UDP too when udp is set).  Others
// may take it before ferryd binds it: Ferryd.start() retries.
export async function freePort(udp = false) {
  for (let i = 0; i < 20; i++) {
    const port = await tcpPort(0);
    if (port && (!udp || await udpFree(port))) return port;
  }
  throw new Error('no free loopback port');
}

function run(cmd, args) {
  return execFileSync(cmd, args, {encoding: 'utf8', timeout: 20000, stdio: ['ignore', 'pipe', 'pipe']});
}

// A private CA and a server certificate for localhost and 127.0.0.1 (EC
// P-256, two days), as tests/integ/test_tls.py makes them, in a fresh
// temporary folder: {dir, ca, cert, key}.  cleanup() removes it.
export function makePki() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-e2e-pki-'));
  const f = (name) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'),
    '-days', '2', '-subj', '/CN=ferry e2e test CA']);
  fs.writeFileSync(f('ext.cnf'), ['basicConstraints = CA:FALSE', 'keyUsage = digitalSignature',
    'extendedKeyUsage = serverAuth', 'subjectAltName = DNS:localhost, IP:127.0.0.1', ''].join('\n'));
  run('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'),
    '-subj', '/CN=ferry-e2e-server']);
  run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
    '-set_serial', `0x${crypto.randomBytes(8).toString('hex')}`, '-days', '2',
    '-extfile', f('ext.cnf'), '-out', f('server.pem')]);
  const ok = run('openssl', ['verify', '-CAfile', f('ca.pem'), f('server.pem')]);
  if (!/OK/.test(ok)) throw new Error(`openssl verify: ${ok}`);
  return {dir, ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key'),
    cleanup: () => fs.rmSync(dir, {recursive: true, force: true})};
}

// A ferryd of our own, in a fresh temporary folder.  opts.tls: a makePki()
// result, to also serve TURN over TLS (tls-listen: .tlsPort) and HTTPS
// (https-listen: .httpsPort, .httpsBase) with its certificate; opts.extra:
// more configuration lines.
export class Ferryd {
  constructor(opts = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-e2e-'));
    this.db = path.join(this.dir, 'ferry.db');
    this.proc = null;
    this.tls = opts.tls || null;
    this.extra = opts.extra || [];
  }

  ctl(...args) {
    return execFileSync(FERRYCTL, ['-d', this.db, ...args], {encoding: 'utf8', timeout: 10000});
  }

  // Start on fresh ports; a port taken meanwhile (ferryd exits saying it
  // cannot bind) means another try with other ports, three at most.
  async start() {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (e) {
        if (attempt >= 3 || !/cannot bind|in use/i.test(e.message)) throw e;
      }
    }
  }

  async startOnce() {
    this.port = await freePort(true);
    this.httpPort = await freePort();
    const tls = [];
    if (this.tls) {
      this.tlsPort = await freePort(true);     // TLS on TCP, DTLS on UDP
      this.httpsPort = await freePort();
      this.httpsBase = `https://127.0.0.1:${this.httpsPort}`;
      tls.push(`tls-listen = 127.0.0.1:${this.tlsPort}`, `https-listen = 127.0.0.1:${this.httpsPort}`,
        `cert = ${this.tls.cert}`, `key = ${this.tls.key}`);
    }
    const conf = [
      `listen = 127.0.0.1:${this.port}`,
      `http-listen = 127.0.0.1:${this.httpPort}`,
      'relay-ip = 127.0.0.1',
      'allow-loopback-peers = yes',
      `auth-secret = ${crypto.randomBytes(16).toString('hex')}`,
      `database = ${this.db}`,
      `web-root = ${path.join(SRCDIR, 'web')}`,
      'threads = 2',
      'log-level = info',
      ...tls,
      ...this.extra,
      '',
    ].join('\n');
    this.confPath = path.join(this.dir, 'ferryd.conf');
    fs.writeFileSync(this.confPath, conf);
    this.logPath = path.join(this.dir, 'ferryd.log');
    fs.writeFileSync(this.logPath, '');
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(FERRYD, ['-f', '-c', this.confPath], {stdio: ['ignore', log, log]});
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({code, sig})));
    this.base = `http://127.0.0.1:${this.httpPort}`;
    const end = Date.now() + 10000;
    for (;;) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`ferryd exited at start: ${this.log().trim() || '(no output)'}`);
      }
      try {
        const r = await fetch(`${this.base}/healthz`, {signal: AbortSignal.timeout(1000)});
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() >= end) {
        await this.stop();
        throw new Error(`ferryd /healthz not 200 within 10 s: ${this.log()}`);
      }
      await sleep(100);
    }
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  // SIGTERM by PID; SIGKILL if it has not exited within 5 s.
  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return null;
    this.proc.kill('SIGTERM');
    const res = await within(this.exited, 5000);
    if (res) return res;
    this.proc.kill('SIGKILL');
    return this.exited;
  }

  cleanup() {
    fs.rmSync(this.dir, {recursive: true, force: true});
  }
}

// One participant: its own chromium with its own profile folder.
export class Participant {
  constructor(label) {
    this.label = label;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-e2e-${label}-`));
    this.context = null;
    this.page = null;
    this.console = [];
  }

  // opts.trustCa: a CA certificate (PEM file) this chromium trusts, put
  // into the NSS database of a home folder of its own ($HOME/.pki/nssdb,
  // where chromium on Linux reads user-added roots); opts.args: flags
  // added after CHROMIUM_ARGS.
  async launch(viewport = {width: 960, height: 640}, opts = {}) {
    const launch = {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(opts.args || [])],
      viewport,
      timeout: 30000,
    };
    if (opts.trustCa) {
      const home = path.join(this.dir, 'home');
      const nssdb = path.join(home, '.pki', 'nssdb');
      fs.mkdirSync(nssdb, {recursive: true});
      run('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']);
      run('certutil', ['-A', '-d', `sql:${nssdb}`, '-n', 'ferry e2e test CA', '-t', 'C,,', '-i', opts.trustCa]);
      launch.env = {...process.env, HOME: home};
    }
    this.context = await chromium.launchPersistentContext(path.join(this.dir, 'profile'), launch);
    this.context.setDefaultTimeout(15000);
    this.page = this.context.pages()[0] || await this.context.newPage();
    this.page.on('console', (m) => this.console.push(`${m.type()}: ${m.text()}`));
    this.page.on('pageerror', (e) => this.console.push(`pageerror: ${e.message}`));
    return this.page;
  }

  async goto(url) {
    await this.page.goto(url, {timeout: 15000, waitUntil: 'load'});
  }

  eval(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  id() {
    return this.eval(() => window.ferryCall && window.ferryCall.id);
  }

  peers() {
    return this.eval(() => (window.ferryCall ? window.ferryCall.peers : []));
  }

  stats() {
    return this.eval(() => window.ferryCall.stats());
  }

  async close() {
    if (this.context) {
      await within(this.context.close().catch(() => {}), 10000);
      this.context = null;
    }
    fs.rmSync(this.dir, {recursive: true, force: true});
  }
}

// Media from every remote peer (or the ones listed) arrives over TURN on
// both ends and keeps being decoded: two samples, framesDecoded rising.
export async function expectFlowing(p, ids, timeoutMs = 20000) {
  let first;
  await poll(`${p.label}: relayed video from ${ids.join(', ')}`, async () => {
    const s = await p.stats();
    const ok = ids.every((id) => s[id] && s[id].state === 'connected' &&
      s[id].local === 'relay' && s[id].remote === 'relay' && s[id].framesDecoded > 0);
    if (!ok) return false;
    first = s;
    return true;
  }, timeoutMs, 500);
  let second;
  await poll(`${p.label}: framesDecoded rising for ${ids.join(', ')}`, async () => {
    second = await p.stats();
    return ids.every((id) => second[id] && second[id].framesDecoded > first[id].framesDecoded);
  }, 10000, 700);
  return second;
}
