// The call app in real browsers: three chromiums meet in one room over
// ferryd's TURN relay, chat, mute, lose and resume signaling, leave; a
// fourth is turned away by the room's limit, and one with no camera
// permission joins to watch.  Tests run in order and share the call.
//
//   node --test --test-reporter=tap tests/e2e/
//
// Each test is bounded by its own timeout; the whole file by ~3 minutes.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {ARTIFACTS, Ferryd, Participant, expectFlowing, poll} from './lib.mjs';

const ROOM = 'trio';
const ferryd = new Ferryd();
const people = {};          // label -> Participant
let ready = false;          // the three-way call came up: later tests build on it

function url(params) {
  return `${ferryd.base}/?${new URLSearchParams(params)}`;
}

async function joinAs(label, extra = {}) {
  const p = new Participant(label);
  people[label] = p;
  await p.launch();
  await p.goto(url({room: ROOM, name: label, relay: '1', ...extra}));
  return p;
}

// Also printed after the run with FERRY_E2E_VERBOSE=1.
function dumpOnFailure() {
  for (const p of Object.values(people)) {
    if (p.console.length) console.log(`# ${p.label} console:\n# ${p.console.slice(-30).join('\n# ')}`);
  }
  console.log(`# ferryd log:\n# ${ferryd.log().split('\n').slice(-40).join('\n# ')}`);
}

// A test whose failure prints the pages' consoles and ferryd's log.
function scenario(name, opts, fn) {
  test(name, opts, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      dumpOnFailure();
      throw e;
    }
  });
}

function needCall(t) {
  if (!ready) t.skip('the three-way call did not come up');
  return ready;
}

before(async () => {
  // The room exists before ferryd starts, limited to three.
  ferryd.ctl('room', 'add', ROOM, '--max-peers', '3');
  await ferryd.start();
}, {timeout: 20000});

after(async () => {
  if (process.env.FERRY_E2E_VERBOSE) dumpOnFailure();
  await Promise.all(Object.values(people).map((p) => p.close()));
  const res = await ferryd.stop();
  if (res && res.code !== 0) console.log(`# ferryd exit: ${JSON.stringify(res)}`);
  ferryd.cleanup();
}, {timeout: 30000});

scenario('three browsers join one room over TURN and see each other playing', {timeout: 75000}, async () => {
  {
    const [a, b, c] = await Promise.all(['Ann', 'Bob', 'Cleo'].map((l) => joinAs(l)));
    const all = [a, b, c];
    const ids = {};
    for (const p of all) ids[p.label] = await poll(`${p.label}: welcome`, () => p.id(), 15000);
    assert.equal(new Set(Object.values(ids)).size, 3, 'ids are distinct');
    for (const p of all) {
      const others = all.filter((o) => o !== p).map((o) => ids[o.label]);
      await poll(`${p.label}: two remote peers`, async () =>
        JSON.stringify((await p.peers()).sort()) === JSON.stringify([...others].sort()), 15000);
      await expectFlowing(p, others, 30000);
      // Two remote tiles whose <video> is playing, each with its name.
      const tiles = await p.eval(() => [...document.querySelectorAll('.tile:not(.self)')].map((t) => ({
        id: t.dataset.peer, name: t.querySelector('.name').textContent, state: t.dataset.state,
        playing: (() => { const v = t.querySelector('video'); return !v.paused && v.readyState >= 2 && v.videoWidth > 0; })(),
      })));
      assert.equal(tiles.length, 2, `${p.label} shows two remote tiles`);
      for (const t of tiles) {
        assert.ok(t.playing, `${p.label}: video of ${t.name} plays`);
        assert.equal(t.state, 'connected');
      }
      assert.deepEqual(tiles.map((t) => t.name).sort(),
        all.filter((o) => o !== p).map((o) => o.label).sort());
    }
    for (const p of all) p.peerId = ids[p.label];
    fs.mkdirSync(ARTIFACTS, {recursive: true});
    await a.page.screenshot({path: path.join(ARTIFACTS, 'three-way-call.png'), timeout: 10000});
    ready = true;
  }
});

scenario('chat reaches the others', {timeout: 20000}, async (t) => {
  if (!needCall(t)) return;
  const {Ann: a, Bob: b, Cleo: c} = people;
  await a.page.click('#btn-chat');
  await a.page.fill('#chat-input', 'hello from Ann');
  await a.page.press('#chat-input', 'Enter');
  for (const p of [b, c]) {
    await p.page.waitForFunction(() => [...document.querySelectorAll('#chat-log li')]
      .some((li) => li.textContent === 'Ann: hello from Ann'), null, {timeout: 10000});
    // Unread count shows while the chat panel is closed.
    assert.equal(await p.page.textContent('#chat-unread'), '1');
  }
  const own = await a.page.textContent('#chat-log');
  assert.match(own, /hello from Ann/);
});

scenario('mute and camera off show on the others', {timeout: 25000}, async (t) => {
  if (!needCall(t)) return;
  const {Ann: a, Bob: b, Cleo: c} = people;
  const tileOf = (id) => `.tile[data-peer="${id}"]`;
  await a.page.click('#btn-mic');
  assert.equal(await a.page.getAttribute('#btn-mic', 'aria-pressed'), 'false');
  assert.equal(await a.eval(() => window.ferryCall && document.querySelector('.tile.self video').srcObject.getAudioTracks()[0].enabled), false);
  for (const p of [b, c]) {
    await p.page.waitForSelector(`${tileOf(a.peerId)}[data-audio="false"] .flag-mic:not([hidden])`, {timeout: 10000});
  }
  await a.page.click('#btn-cam');
  for (const p of [b, c]) {
    await p.page.waitForSelector(`${tileOf(a.peerId)}[data-video="false"] .placeholder`, {state: 'visible', timeout: 10000});
  }
  await a.page.click('#btn-mic');
  await a.page.click('#btn-cam');
  for (const p of [b, c]) {
    await p.page.waitForSelector(`${tileOf(a.peerId)}[data-audio="true"][data-video="true"]`, {timeout: 10000});
  }
});

scenario('a fourth joiner from the lobby is told the room is full', {timeout: 40000}, async (t) => {
  if (!needCall(t)) return;
  const d = new Participant('Dora');
  people.Dora = d;
  await d.launch({width: 390, height: 740});   // a phone
  await d.goto(`${ferryd.base}/`);
  await d.page.waitForSelector('#lobby-form', {state: 'visible'});
  await d.page.fill('#lobby-name', 'Dora');
  await d.page.fill('#lobby-room', ROOM);
  assert.equal(await d.page.textContent('#lobby-link'), `${ferryd.base}/?room=${ROOM}`);
  await Promise.all([d.page.waitForURL(/\?room=trio&name=Dora$/, {timeout: 10000}),
    d.page.click('#lobby-join')]);
  await d.page.waitForSelector('body[data-fatal="room-full"]', {timeout: 15000});
  const text = await d.page.textContent('#banner');
  assert.match(text, /room is full/i);
  await d.close();
  delete people.Dora;
  // The others never saw Dora.
  for (const p of [people.Ann, people.Bob, people.Cleo]) {
    assert.equal((await p.peers()).length, 2, `${p.label} still has two peers`);
  }
});

scenario('a dropped WebSocket resumes with the same id and media keeps flowing', {timeout: 45000}, async (t) => {
  if (!needCall(t)) return;
  const {Ann: a, Bob: b, Cleo: c} = people;
  // Ann and Bob record any tile that disappears meanwhile.
  for (const p of [a, b]) {
    await p.eval(() => {
      window.__removed = [];
      new MutationObserver((ms) => {
        for (const m of ms) for (const n of m.removedNodes) if (n.dataset) window.__removed.push(n.dataset.peer);
      }).observe(document.getElementById('grid'), {childList: true});
    });
  }
  const before = await c.stats();
  const idBefore = await c.id();
  const wsBefore = await c.eval(() => window.ferryCall.welcomes);
  await c.eval(() => window.ferryCall.drop());
  await poll('Cleo: resumed welcome', () => c.eval((n) => window.ferryCall.welcomes > n &&
    window.ferryCall.resumed && window.ferryCall._ws.readyState === 1, wsBefore), 20000);
  assert.equal(await c.id(), idBefore, 'same id after resume');
  assert.deepEqual((await c.peers()).sort(), [a.peerId, b.peerId].sort());
  const after = await expectFlowing(c, [a.peerId, b.peerId], 15000);
  for (const id of [a.peerId, b.peerId]) {
    assert.ok(after[id].framesDecoded > before[id].framesDecoded, 'frames kept coming');
  }
  await expectFlowing(a, [c.peerId], 10000);
  await expectFlowing(b, [c.peerId], 10000);
  for (const p of [a, b]) {
    assert.deepEqual(await p.eval(() => window.__removed), [], `${p.label} never dropped a tile`);
  }
  // Signaling works again over the new socket: a chat line goes through.
  await c.page.click('#btn-chat');
  await c.page.fill('#chat-input', 'back again');
  await c.page.press('#chat-input', 'Enter');
  await a.page.waitForFunction(() => document.getElementById('chat-log').textContent.includes('Cleo: back again'),
    null, {timeout: 10000});
});

scenario('an ICE restart from the offering side reconnects over new relays', {timeout: 40000}, async (t) => {
  if (!needCall(t)) return;
  const all = [people.Ann, people.Bob, people.Cleo];
  const before = {};
  for (const p of all) before[p.label] = await p.stats();
  // Exactly one side of each pair offers.
  for (const p of all) {
    for (const q of all) {
      if (p === q) continue;
      assert.notEqual(before[p.label][q.peerId].offerer, before[q.label][p.peerId].offerer,
        `one offerer between ${p.label} and ${q.label}`);
    }
  }
  let started = 0;
  for (const p of all) started += await p.eval(() => window.ferryCall.restartIce());
  assert.equal(started, 3, 'three pairs, three restarts');
  for (const p of all) {
    const others = all.filter((o) => o !== p).map((o) => o.peerId);
    await poll(`${p.label}: new candidate pairs selected`, async () => {
      const s = await p.stats();
      return others.every((id) => s[id].state === 'connected' && s[id].pair &&
        s[id].pair !== before[p.label][id].pair &&
        s[id].restarts === before[p.label][id].restarts + (s[id].offerer ? 1 : 0));
    }, 25000, 500);
    await expectFlowing(p, others, 15000);
  }
});

scenario('one leaves and the others drop its tile', {timeout: 25000}, async (t) => {
  if (!needCall(t)) return;
  const {Ann: a, Bob: b, Cleo: c} = people;
  await b.page.click('#btn-leave');
  await b.page.waitForSelector('#banner:has-text("You left")', {timeout: 5000});
  for (const p of [a, c]) {
    await p.page.waitForSelector(`.tile[data-peer="${b.peerId}"]`, {state: 'detached', timeout: 10000});
    assert.deepEqual(await p.peers(), [p === a ? c.peerId : a.peerId]);
    assert.equal(await p.page.locator('.tile').count(), 2, `${p.label}: own tile and one other`);
  }
  await b.close();
  delete people.Bob;
});

scenario('with camera and microphone refused a joiner still watches', {timeout: 45000}, async (t) => {
  if (!needCall(t)) return;
  const {Ann: a, Cleo: c} = people;
  const e = new Participant('Eve');
  people.Eve = e;
  await e.launch({width: 390, height: 740});
  await e.page.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () =>
      Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
  await e.goto(url({room: ROOM, name: 'Eve', relay: '1'}));
  await e.page.waitForSelector('#media-notice', {timeout: 10000});
  assert.match(await e.page.textContent('#media-notice'), /permission was refused.*watch and listen only/);
  assert.equal(await e.page.isDisabled('#btn-mic'), true);
  const eid = await poll('Eve: welcome', () => e.id(), 15000);
  await expectFlowing(e, [a.peerId, c.peerId], 30000);
  for (const p of [a, c]) {
    await p.page.waitForSelector(`.tile[data-peer="${eid}"][data-video="false"][data-audio="false"]`, {timeout: 10000});
    await poll(`${p.label}: connected to Eve`, async () => (await p.stats())[eid]?.state === 'connected', 15000);
  }
  await e.page.screenshot({path: path.join(ARTIFACTS, 'phone-receive-only.png'), timeout: 10000});
});

scenario('no page threw an uncaught error', {timeout: 5000}, async (t) => {
  if (!needCall(t)) return;
  for (const p of Object.values(people)) {
    assert.deepEqual(p.console.filter((l) => l.startsWith('pageerror')), [], `${p.label}'s page`);
  }
});
