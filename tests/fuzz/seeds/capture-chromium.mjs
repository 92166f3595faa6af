// A two-participant Chromium call through a running ferryd, for
// capture-seeds.py to record as fuzz seeds (it sniffs `lo` meanwhile).
//
//   node tests/fuzz/seeds/capture-chromium.mjs --base http://127.0.0.1:HTTPPORT [--seconds 12]
//
// Reuses tests/e2e/lib.mjs (Debian's /usr/bin/chromium through
// playwright-core, from tests/e2e/node_modules; $CHROMIUM overrides).  Two
// pages join one room with ?relay=1, so every candidate is a TURN relay
// (UDP and TCP allocations, with and without credentials, CreatePermission,
// Send indications, ChannelBind, ChannelData, ICE checks inside them).  The
// call runs for --seconds (past the page's 10 s signaling ping), with a chat
// line, a mute and unmute and an ICE restart on the way (more Allocates and
// Refreshes); then one page leaves through its button (`leave`; its
// allocations are released) and both are closed.  Prints one JSON line:
// {ok, flowing, ids, error}.  Every wait is bounded; the browsers are
// playwright's children, closed by it.

import {Participant, expectFlowing, poll, sleep, within} from '../../e2e/lib.mjs';

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const base = arg('base', null);
const seconds = Number(arg('seconds', '12'));
if (!base) {
  console.error('usage: capture-chromium.mjs --base http://127.0.0.1:PORT [--seconds N]');
  process.exit(2);
}

const room = `capture-${process.pid}`;
const people = [];
const result = {ok: false, flowing: false, ids: [], error: null};

async function main() {
  for (const label of ['Ann', 'Bob']) {
    const p = new Participant(label);
    people.push(p);
    await p.launch();
    await p.goto(`${base}/?${new URLSearchParams({room, name: label, relay: '1'})}`);
    result.ids.push(await poll(`${label}: welcome`, () => p.id(), 15000));
  }
  const [a, b] = people;
  const started = Date.now();
  await expectFlowing(a, [result.ids[1]], 30000);
  await expectFlowing(b, [result.ids[0]], 30000);
  result.flowing = true;

  // A chat line and a mute/unmute: broadcast frames.
  await a.page.click('#btn-chat');
  await a.page.fill('#chat-input', 'seed');
  await a.page.press('#chat-input', 'Enter');
  await b.page.click('#btn-mic');
  await b.page.click('#btn-mic');

  // An ICE restart from the offering side (Ann was first): new candidates.
  await b.eval(() => window.ferryCall.restartIce());
  await a.eval(() => window.ferryCall.restartIce());
  await sleep(3000);

  // Stay past the page's signaling ping (every 10 s).
  const left = seconds * 1000 - (Date.now() - started);
  if (left > 0) await sleep(left);

  await b.page.click('#btn-leave');
  await b.page.waitForSelector('#banner:has-text("You left")', {timeout: 5000});
  await sleep(1500);
  result.ok = true;
}

try {
  const r = await within(main().then(() => 'done'), (seconds + 60) * 1000, 'timeout');
  if (r === 'timeout') throw new Error(`timed out after ${seconds + 60} s`);
} catch (e) {
  result.error = e.message;
} finally {
  for (const p of people) await p.close();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
