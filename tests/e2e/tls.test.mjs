// ferry over TLS in real browsers, against one ferryd that also has
// tls-listen (TURN over TLS) and https-listen (the page, the API and wss://)
// with a certificate from a private CA made here with openssl.  Each
// chromium trusts that CA through the NSS database of a home folder of its
// own (certutil), so certificates are verified as they would be for a real
// deployment; no certificate errors are ignored.
//
//   1. Two chromiums whose RTCPeerConnections get only the `turns:` URL
//      (an init script wraps RTCPeerConnection, filtering iceServers and
//      forcing iceTransportPolicy 'relay'): the selected pair on both sides
//      is relay-to-relay with relayProtocol 'tls', and video is decoded.
//   2. Three chromiums load the call page from https:// and signal over
//      wss://; the three-way call comes up over TURN.
//   A control: a chromium that does not trust the CA gets no relay from
//   the turns: URL and cannot load the https:// page, so the trust above
//   is what makes them work (chromium verifies TURN servers' certificates).
//
// Needs openssl and certutil (Debian's libnss3-tools; test_browser.sh
// installs it when it can); without them the tests are skipped.
//
//   node --test --test-reporter=tap tests/e2e/tls.test.mjs

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {ARTIFACTS, Ferryd, Participant, expectFlowing, makePki, poll} from './lib.mjs';

let pki = null;
let ferryd = null;
const people = {};          // label -> Participant

// Why the tests cannot run here, or null.
function missingTools() {
  for (const [cmd, args] of [['openssl', ['version']], ['certutil', ['-H']]]) {
    try {
      execFileSync(cmd, args, {stdio: 'ignore', timeout: 10000});
    } catch (e) {
      // certutil -H exits 1 after printing its help: only "not found" counts.
      if (e.code === 'ENOENT') return `${cmd} is not installed`;
    }
  }
  return null;
}
const MISSING = missingTools();

function dumpOnFailure() {
  for (const p of Object.values(people)) {
    if (p.console.length) console.log(`# ${p.label} console:\n# ${p.console.slice(-30).join('\n# ')}`);
  }
  if (ferryd) console.log(`# ferryd log:\n# ${ferryd.log().split('\n').slice(-60).join('\n# ')}`);
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

async function launch(label, trust = true) {
  const p = new Participant(label);
  people[label] = p;
  await p.launch(undefined, trust ? {trustCa: pki.ca} : {});
  return p;
}

async function closeAll(labels) {
  await Promise.all(labels.map(async (l) => {
    if (!people[l]) return;
    await people[l].close();
    delete people[l];
  }));
}

before(async () => {
  if (MISSING) return;
  pki = makePki();
  ferryd = new Ferryd({tls: pki});
  await ferryd.start();
}, {timeout: 30000});

after(async () => {
  if (process.env.FERRY_E2E_VERBOSE) dumpOnFailure();
  await Promise.all(Object.values(people).map((p) => p.close()));
  if (ferryd) {
    const res = await ferryd.stop();
    if (res && res.code !== 0) console.log(`# ferryd exit: ${JSON.stringify(res)}`);
    ferryd.cleanup();
  }
  if (pki) pki.cleanup();
}, {timeout: 30000});

// Runs in the page before its scripts: every RTCPeerConnection (and every
// later setConfiguration) gets only the turns: URLs of the iceServers the
// app passes, and iceTransportPolicy 'relay'.  What the app passed and what
// the browser got are kept in window.__ice, the connections in window.__pcs.
function turnsOnly() {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.__ice = [];
  const restrict = (cfg) => {
    const given = cfg || {};
    const iceServers = (given.iceServers || []).map((s) => ({
      ...s, urls: [].concat(s.urls || []).filter((u) => /^turns:/i.test(u)),
    })).filter((s) => s.urls.length > 0);
    const used = {...given, iceServers, iceTransportPolicy: 'relay'};
    window.__ice.push({given: JSON.parse(JSON.stringify(given)), used: JSON.parse(JSON.stringify(used))});
    return used;
  };
  class TurnsOnly extends Native {
    constructor(cfg, ...rest) {
      super(restrict(cfg), ...rest);
      window.__pcs.push(this);
    }

    setConfiguration(cfg) {
      return super.setConfiguration(restrict(cfg));
    }
  }
  window.RTCPeerConnection = TurnsOnly;
}

// In the page: for each open RTCPeerConnection, the selected pair's local
// and remote candidates and every local candidate gathered.
function selectedPairs() {
  return Promise.all(window.__pcs.filter((pc) => pc.connectionState !== 'closed').map(async (pc) => {
    const report = await pc.getStats();
    let pairId = null;
    const locals = [];
    report.forEach((r) => {
      if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
      if (r.type === 'local-candidate') {
        locals.push({type: r.candidateType, relayProtocol: r.relayProtocol, url: r.url});
      }
    });
    const pair = pairId && report.get(pairId);
    const pick = (c) => c && {type: c.candidateType, relayProtocol: c.relayProtocol, url: c.url,
      protocol: c.protocol, address: c.address};
    return {state: pc.connectionState, policy: pc.getConfiguration().iceTransportPolicy,
      urls: pc.getConfiguration().iceServers.flatMap((s) => [].concat(s.urls)),
      pairState: pair && pair.state, bytesReceived: pair ? pair.bytesReceived : 0,
      local: pair && pick(report.get(pair.localCandidateId)),
      remote: pair && pick(report.get(pair.remoteCandidateId)),
      locals};
  }));
}

scenario('two browsers given only turns: and relay policy connect through TURN over TLS', {timeout: 75000}, async () => {
  const room = 'turns-only';
  const turnsUrl = `turns:127.0.0.1:${ferryd.tlsPort}?transport=tcp`;
  const [a, b] = await Promise.all(['Tia', 'Lev'].map(async (label) => {
    const p = await launch(label);
    await p.page.addInitScript(turnsOnly);
    // Plain http:// page and no relay=1: the policy comes from the wrapper.
    await p.goto(`${ferryd.base}/?${new URLSearchParams({room, name: label})}`);
    return p;
  }));
  const ids = {};
  for (const p of [a, b]) ids[p.label] = await poll(`${p.label}: welcome`, () => p.id(), 15000);
  const other = (p) => ids[p === a ? b.label : a.label];
  for (const p of [a, b]) {
    await poll(`${p.label}: a peer connection`, () => p.eval(() => window.__pcs.length > 0), 15000);
    const ice = await p.eval(() => window.__ice);
    // The app passed what ferryd advertised (turn:, stun: and turns:) …
    const given = ice[0].given.iceServers.flatMap((s) => [].concat(s.urls));
    assert.ok(given.includes(turnsUrl), `${p.label}: welcome advertises ${turnsUrl} (got ${given})`);
    assert.ok(given.some((u) => u.startsWith('turn:')), `${p.label}: and plain turn: too`);
    // … and the browser got only turns:, with credentials, relay only.
    for (const {used} of ice) {
      assert.equal(used.iceTransportPolicy, 'relay');
      assert.deepEqual(used.iceServers.flatMap((s) => [].concat(s.urls)), [turnsUrl]);
      assert.ok(used.iceServers[0].username && used.iceServers[0].credential, 'TURN credentials kept');
    }
  }
  for (const p of [a, b]) await expectFlowing(p, [other(p)], 40000);
  for (const p of [a, b]) {
    const pcs = await p.eval(selectedPairs);
    assert.equal(pcs.length, 1, `${p.label}: one open peer connection`);
    const [pc] = pcs;
    const what = `${p.label}: ${JSON.stringify(pc)}`;
    assert.equal(pc.state, 'connected', what);
    assert.equal(pc.policy, 'relay', what);
    assert.deepEqual(pc.urls, [turnsUrl], what);
    assert.equal(pc.local.type, 'relay', what);
    assert.equal(pc.local.relayProtocol, 'tls', what);
    assert.equal(pc.local.url, turnsUrl, what);
    assert.equal(pc.remote.type, 'relay', what);
    assert.equal(pc.local.address, '127.0.0.1', what);
    assert.ok(pc.bytesReceived > 0, what);
    // Nothing but relays over TLS was gathered.
    assert.ok(pc.locals.length > 0, what);
    for (const c of pc.locals) {
      assert.equal(c.type, 'relay', what);
      assert.equal(c.relayProtocol, 'tls', what);
    }
  }
  for (const p of [a, b]) {
    assert.deepEqual(p.console.filter((l) => l.startsWith('pageerror')), [], `${p.label}'s page`);
  }
  await closeAll(['Tia', 'Lev']);
});

scenario('three browsers on the https:// call page signal over wss:// and see each other playing', {timeout: 90000}, async () => {
  const room = 'https-trio';
  const labels = ['Hana', 'Ivo', 'Jun'];
  const all = await Promise.all(labels.map(async (label) => {
    const p = await launch(label);
    await p.goto(`${ferryd.httpsBase}/?${new URLSearchParams({room, name: label, relay: '1'})}`);
    return p;
  }));
  const ids = {};
  for (const p of all) {
    ids[p.label] = await poll(`${p.label}: welcome`, () => p.id(), 15000);
    const loc = await p.eval(() => ({protocol: location.protocol, origin: location.origin,
      secure: window.isSecureContext, ws: window.ferryCall._ws.url, open: window.ferryCall._ws.readyState}));
    assert.equal(loc.protocol, 'https:', `${p.label}: ${JSON.stringify(loc)}`);
    assert.equal(loc.origin, ferryd.httpsBase);
    assert.equal(loc.secure, true);
    assert.equal(loc.ws, `wss://127.0.0.1:${ferryd.httpsPort}/ws`);
    assert.equal(loc.open, 1, `${p.label}: wss:// socket open`);
  }
  assert.equal(new Set(Object.values(ids)).size, 3, 'ids are distinct');
  for (const p of all) {
    const others = all.filter((o) => o !== p).map((o) => ids[o.label]);
    await poll(`${p.label}: two remote peers`, async () =>
      JSON.stringify((await p.peers()).sort()) === JSON.stringify([...others].sort()), 15000);
    await expectFlowing(p, others, 40000);
    const tiles = await p.eval(() => [...document.querySelectorAll('.tile:not(.self)')].map((t) => ({
      name: t.querySelector('.name').textContent, state: t.dataset.state,
      playing: (() => { const v = t.querySelector('video'); return !v.paused && v.readyState >= 2 && v.videoWidth > 0; })(),
    })));
    assert.equal(tiles.length, 2, `${p.label} shows two remote tiles`);
    for (const t of tiles) {
      assert.ok(t.playing, `${p.label}: video of ${t.name} plays`);
      assert.equal(t.state, 'connected');
    }
    assert.deepEqual(tiles.map((t) => t.name).sort(), labels.filter((l) => l !== p.label).sort());
  }
  // Signaling still goes over the same wss:// sockets: a chat line arrives.
  const [h, i, j] = all;
  await h.page.click('#btn-chat');
  await h.page.fill('#chat-input', 'hello over wss');
  await h.page.press('#chat-input', 'Enter');
  for (const p of [i, j]) {
    await p.page.waitForFunction(() => document.getElementById('chat-log').textContent.includes('Hana: hello over wss'),
      null, {timeout: 10000});
  }
  fs.mkdirSync(ARTIFACTS, {recursive: true});
  await h.page.screenshot({path: path.join(ARTIFACTS, 'https-three-way-call.png'), timeout: 10000});
  for (const p of all) {
    assert.deepEqual(p.console.filter((l) => l.startsWith('pageerror')), [], `${p.label}'s page`);
  }
  await closeAll(labels);
});

scenario('a browser that does not trust the CA gets no TURN over TLS and no https:// page', {timeout: 40000}, async () => {
  const turnsUrl = `turns:127.0.0.1:${ferryd.tlsPort}?transport=tcp`;
  const p = await launch('Nob', false);
  await p.goto(`${ferryd.base}/`);
  const got = await p.eval(async (url) => {
    const ice = await (await fetch('/api/ice-servers')).json();
    const turn = ice.iceServers.find((s) => s.username);
    const pc = new RTCPeerConnection({iceServers: [{urls: [url], username: turn.username,
      credential: turn.credential}], iceTransportPolicy: 'relay'});
    const candidates = [];
    const errors = [];
    pc.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) candidates.push(e.candidate.candidate); };
    pc.onicecandidateerror = (e) => errors.push({code: e.errorCode, url: e.url});
    pc.createDataChannel('probe');
    await pc.setLocalDescription();
    const done = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 15000);
      pc.onicegatheringstatechange = () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve(true);
        }
      };
    });
    pc.close();
    return {done, candidates, errors};
  }, turnsUrl);
  assert.equal(got.done, true, `gathering completes: ${JSON.stringify(got)}`);
  assert.deepEqual(got.candidates, [], 'no relay candidate from an untrusted TURN server');
  assert.ok(got.errors.some((e) => e.url === turnsUrl && e.code === 701), JSON.stringify(got.errors));
  await assert.rejects(p.goto(`${ferryd.httpsBase}/`), /ERR_CERT_AUTHORITY_INVALID/);
  await closeAll(['Nob']);
});
