// Interop: a non-browser WebRTC stack in a call with the browser app.
// aiortc-peer.py (Debian's python3-aiortc and python3-websockets in
// /usr/bin/python3) joins a room over the same WebSocket protocol as the
// call page and exchanges video with a Chromium page through ferryd's TURN
// relay, relay-only on both sides (the page through ?relay=1, aiortc by
// keeping only `typ relay` candidates).  Twice, once for each side of the
// spec's flow (the peer already in the room offers):
//
//   1. Chromium first, aiortc joins: Chromium offers, aiortc answers.
//   2. aiortc first, Chromium joins: aiortc offers, Chromium answers.
//
// Each time: Chromium shows the aiortc peer's tile playing aiortc's 160x120
// video, its selected candidate pair is relay/relay and framesDecoded
// rises; aiortc decoded >= 10 frames of Chromium's video over a nominated
// relay/relay pair, having trickled and accepted only relay candidates
// (RTCIceCandidate.toJSON() objects both ways); ferryd logged an allocation
// for each side's TURN user (<expiry>:<peer id>), and the relay addresses of
// aiortc's nominated pair are exactly those two allocations.  After aiortc
// leaves (`leave`), Chromium drops its tile.
//
// Skipped when /usr/bin/python3 (or $AIORTC_PYTHON) cannot import aiortc
// and websockets.
//
//   node --test --test-reporter=tap tests/e2e/interop.test.mjs

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, execFileSync} from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import {fileURLToPath} from 'node:url';
import {Ferryd, Participant, expectFlowing, poll, within} from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.AIORTC_PYTHON || '/usr/bin/python3';
const PEER = path.join(here, 'aiortc-peer.py');
const MIN_FRAMES = 10;

function missing() {
  try {
    execFileSync(PYTHON, ['-c', 'import aiortc, websockets, av'], {stdio: 'ignore', timeout: 20000});
    return false;
  } catch {
    return `${PYTHON} cannot import aiortc, websockets and av (Debian: python3-aiortc python3-websockets)`;
  }
}
const MISSING = missing();

let ferryd = null;
const people = {};          // label -> Participant
const peers = [];           // AiortcPeer

// aiortc-peer.py as a child process: its JSON lines as events.
class AiortcPeer {
  constructor(room, name) {
    this.events = [];
    this.stderr = '';
    this.proc = spawn(PYTHON, [PEER, '--url', `ws://127.0.0.1:${ferryd.httpPort}/ws`,
      '--room', room, '--name', name, '--timeout', '75', '--min-frames', String(MIN_FRAMES)],
    {stdio: ['ignore', 'pipe', 'pipe']});
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({code, sig})));
    readline.createInterface({input: this.proc.stdout}).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line));
      } catch {
        this.stderr += `(stdout) ${line}\n`;
      }
    });
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    peers.push(this);
  }

  event(type, pred = () => true) {
    return this.events.find((e) => e.event === type && pred(e));
  }

  running() {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  // SIGTERM by pid: it leaves and prints its result; SIGKILL after 15 s.
  async stop() {
    if (this.running()) this.proc.kill('SIGTERM');
    const res = await within(this.exited, 15000);
    if (!res) {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error('aiortc-peer.py did not exit within 15 s of SIGTERM');
    }
    return res;
  }

  kill() {
    if (this.running()) this.proc.kill('SIGKILL');
  }
}

function dumpOnFailure() {
  for (const p of Object.values(people)) {
    if (p.console.length) console.log(`# ${p.label} console:\n# ${p.console.slice(-30).join('\n# ')}`);
  }
  for (const a of peers) {
    console.log(`# aiortc events:\n# ${a.events.map((e) => JSON.stringify(e).slice(0, 400)).join('\n# ')}`);
    if (a.stderr) console.log(`# aiortc stderr:\n# ${a.stderr.trim().split('\n').slice(-30).join('\n# ')}`);
  }
  if (ferryd) console.log(`# ferryd log:\n# ${ferryd.log().split('\n').slice(-50).join('\n# ')}`);
}

function scenario(name, opts, fn) {
  test(name, {...opts, skip: MISSING || false}, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      dumpOnFailure();
      throw e;
    }
  });
}

async function browser(label, room) {
  const p = new Participant(label);
  people[label] = p;
  await p.launch();
  await p.goto(`${ferryd.base}/?${new URLSearchParams({room, name: label, relay: '1'})}`);
  return p;
}

// TURN relay ports ferryd logged for the REST user of peer id.
function allocations(id) {
  const re = new RegExp(`allocation for \\d+:${id.replace(/[.-]/g, '\\$&')}: relay 127\\.0\\.0\\.1:(\\d+)`, 'g');
  return [...ferryd.log().matchAll(re)].map((m) => Number(m[1]));
}

const portOf = (addr) => Number(addr.split(':').pop());

// Everything both sides and ferryd say about one Chromium-aiortc call.
async function checkCall(p, a, bid, browserOffers) {
  const welcome = await poll('aiortc: welcome', () => a.event('welcome'), 15000);
  const aid = welcome.id;
  assert.match(welcome.turnUsername, new RegExp(`^\\d+:${aid}$`), 'TURN user is <expiry>:<peer id>');
  assert.deepEqual(welcome.peers.map((x) => x.id), browserOffers ? [bid] : []);

  // Chromium: the aiortc peer's tile plays its 160x120 video over relay/relay.
  await poll('Chromium: the aiortc peer', async () => (await p.peers()).includes(aid), 20000);
  const s = await expectFlowing(p, [aid], 30000);
  assert.equal(s[aid].offerer, browserOffers, `Chromium ${browserOffers ? 'offers' : 'answers'}`);
  await poll('Chromium: the aiortc tile playing 160x120', () => p.eval((id) => {
    const t = document.querySelector(`.tile[data-peer="${id}"]`);
    const v = t && t.querySelector('video');
    return v && !v.paused && v.readyState >= 2 && v.videoWidth === 160 && v.videoHeight === 120 &&
      t.dataset.state === 'connected' && t.querySelector('.name').textContent === 'aiortc' &&
      t.dataset.audio === 'false' && t.dataset.video === 'true';
  }, aid), 10000);

  // aiortc: Chromium's video decoded.
  await poll(`aiortc: ${MIN_FRAMES} frames from Chromium`, () =>
    a.event('frames', (e) => e.peer === bid && e.frames >= MIN_FRAMES), 20000);
  const exit = await a.stop();
  const res = a.event('result');
  assert.ok(res, 'aiortc printed its result');
  assert.equal(res.error, null);
  assert.equal(res.ended, 'SIGTERM');
  assert.equal(exit.code, 0, `aiortc-peer.py exit status (result ok: ${res.ok})`);
  assert.ok(res.ok);
  const r = res.peers[bid];
  assert.ok(r, `aiortc met ${bid}`);
  assert.equal(r.role, browserOffers ? 'answerer' : 'offerer');
  assert.ok(r.framesReceived >= MIN_FRAMES, `aiortc decoded ${r.framesReceived} frames`);
  assert.ok(r.frameSize[0] > 0 && r.frameSize[1] > 0);
  assert.ok(r.sentCandidates.length >= 1, 'aiortc trickled candidates');
  assert.ok(r.receivedCandidates.length >= 1, 'aiortc accepted trickled candidates');
  for (const c of [...r.sentCandidates, ...r.receivedCandidates]) {
    assert.match(c, /^candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ relay\b/);
  }
  assert.deepEqual(r.ignoredCandidates, [], 'Chromium with relay=1 sent only relay candidates');
  assert.ok(r.endOfCandidates, 'Chromium\'s null candidate reached aiortc');
  assert.ok(r.pairs.length >= 1, 'aiortc nominated a pair');

  // ferryd: an allocation for each side; aiortc's pair is made of them.
  const mine = allocations(aid);
  const theirs = allocations(bid);
  assert.ok(mine.length >= 1, `allocation for aiortc's user ${aid}`);
  assert.ok(theirs.length >= 1, `allocation for Chromium's user ${bid}`);
  for (const pair of r.pairs) {
    assert.equal(pair.local, 'relay');
    assert.equal(pair.remote, 'relay');
    assert.ok(mine.includes(portOf(pair.localAddr)), `${pair.localAddr} is aiortc's allocation (${mine})`);
    assert.ok(theirs.includes(portOf(pair.remoteAddr)), `${pair.remoteAddr} is Chromium's allocation (${theirs})`);
  }
  for (const c of r.sentCandidates) assert.ok(mine.includes(Number(c.split(' ')[5])), c);
  for (const c of r.receivedCandidates) assert.ok(theirs.includes(Number(c.split(' ')[5])), c);

  // aiortc left: Chromium drops its tile, ferryd logged the leave.
  await p.page.waitForSelector(`.tile[data-peer="${aid}"]`, {state: 'detached', timeout: 10000});
  assert.deepEqual(await p.peers(), []);
  assert.match(ferryd.log(), new RegExp(`peer ${aid} left room \\S+ \\(left\\)`));
  assert.deepEqual(p.console.filter((l) => l.startsWith('pageerror')), []);
}

before(async () => {
  if (MISSING) return;
  ferryd = new Ferryd();
  await ferryd.start();
}, {timeout: 20000});

after(async () => {
  if (process.env.FERRY_E2E_VERBOSE) dumpOnFailure();
  for (const a of peers) a.kill();
  await Promise.all(Object.values(people).map((p) => p.close()));
  if (ferryd) {
    const res = await ferryd.stop();
    if (res && res.code !== 0) console.log(`# ferryd exit: ${JSON.stringify(res)}`);
    ferryd.cleanup();
  }
}, {timeout: 30000});

scenario('aiortc joins a Chromium page\'s room: Chromium offers, video both ways over TURN', {timeout: 90000}, async () => {
  const room = 'interop-browser-first';
  const p = await browser('Chromium', room);
  const bid = await poll('Chromium: welcome', () => p.id(), 15000);
  const a = new AiortcPeer(room, 'aiortc');
  try {
    await checkCall(p, a, bid, true);
  } finally {
    a.kill();
    await p.close();
    delete people.Chromium;
  }
});

scenario('Chromium joins an aiortc peer\'s room: aiortc offers, video both ways over TURN', {timeout: 90000}, async () => {
  const room = 'interop-aiortc-first';
  const a = new AiortcPeer(room, 'aiortc');
  try {
    await poll('aiortc: welcome', () => a.event('welcome'), 15000);
    const p = await browser('Chromium2', room);
    const bid = await poll('Chromium2: welcome', () => p.id(), 15000);
    await checkCall(p, a, bid, false);
  } finally {
    a.kill();
    if (people.Chromium2) {
      await people.Chromium2.close();
      delete people.Chromium2;
    }
  }
});
