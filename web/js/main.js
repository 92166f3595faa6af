// Entry point.  `/` shows the lobby; `/?room=NAME[&name=N][&relay=1][&token=T]`
// joins at once.
//
// Debug hook for tests, read-only except for drop():
//   window.ferryCall.id          own peer id (null before the first welcome)
//   window.ferryCall.room        room name
//   window.ferryCall.peers       ids of the remote peers, in joining order
//   window.ferryCall.resumed     whether the last welcome resumed the place
//   window.ferryCall.welcomes    how many welcomes arrived so far
//   window.ferryCall.stats()     Promise of {peerId: {state, ice, offerer,
//                                restarts, pair, local, remote, framesDecoded,
//                                audioPackets}}: the connection state, whether
//                                we offer to that peer, ICE restarts we began,
//                                the selected candidate pair's stats id and its
//                                local/remote candidate types, and the inbound
//                                video frames decoded
//   window.ferryCall.drop()      close the WebSocket as a network failure
//                                would (no `leave`); the app then resumes
//   window.ferryCall.restartIce()  restart ICE towards the peers we offer to,
//                                as a failed connection would; returns how many
//   window.ferryCall._ws         the current WebSocket

import {Signaling} from './signaling.js';
import {Call} from './call.js';
import {getLocalMedia} from './media.js';
import {Ui} from './ui.js';

const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;

const FATAL_TEXT = {
  'room-full': 'This room is full. Try again later or pick another room.',
  'unauthorized': 'You are not allowed into this room: the link’s token is missing, wrong or expired.',
  'replaced': 'This call continues in another window or tab.',
};

function randomRoom() {
  const a = new Uint8Array(4);
  crypto.getRandomValues(a);
  return 'room-' + [...a].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// The `name` claim of a JWT, read without checking it (the server does).
function tokenName(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part));
    return typeof claims.name === 'string' ? claims.name : '';
  } catch {
    return '';
  }
}

function lobby(ui, params) {
  ui.showLobby({room: params.get('suggest') || randomRoom(),
    name: localStorage.getItem('ferry.name') || ''}, (room, name) => {
    if (name) localStorage.setItem('ferry.name', name);
    const q = new URLSearchParams({room});
    if (name) q.set('name', name);
    location.assign(`/?${q}`);
  });
}

async function join(ui, params) {
  const room = params.get('room');
  const relayOnly = params.get('relay') === '1';
  const token = params.get('token') || '';
  // A token's `name` claim overrides join.name on the server: show that one.
  const name = (tokenName(token) || params.get('name') || localStorage.getItem('ferry.name') || '').slice(0, 64);

  ui.showCall(room);
  if (!ROOM_RE.test(room)) {
    ui.ended('A room name is 1–64 letters, digits, “_”, “.” or “-”.', 'error', '/');
    return;
  }
  ui.status('starting camera…');

  const local = await getLocalMedia();
  ui.mediaNotice(local.notice);
  const self = ui.addTile('self', name ? `${name} (you)` : 'You', true);
  if (local.stream) {
    ui.setTileStream('self', local.stream);
  }
  ui.setTileMedia('self', local.audio, local.video);
  self.dataset.state = 'self';

  const sig = new Signaling({room, name, token});
  const call = new Call(sig, local, relayOnly);
  const rejoin = location.pathname + location.search;
  let welcomes = 0;
  let lastResumed = false;

  const controls = () => ui.setControls({hasAudio: local.audio, hasVideo: local.video,
    audio: call.audioOn, video: call.videoOn});
  controls();

  call.addEventListener('peer-added', (e) => ui.addTile(e.detail.id, e.detail.name));
  call.addEventListener('peer-removed', (e) => ui.removeTile(e.detail.id));
  call.addEventListener('peer-stream', (e) => ui.setTileStream(e.detail.peer.id, e.detail.stream));
  call.addEventListener('peer-state', (e) => ui.setTileState(e.detail.id, e.detail.state));
  call.addEventListener('peer-media', (e) => ui.setTileMedia(e.detail.id, e.detail.audio, e.detail.video));
  call.addEventListener('chat', (e) => ui.chatLine(e.detail.peer.name || 'Guest', e.detail.text));
  call.addEventListener('welcome', (e) => {
    welcomes += 1;
    lastResumed = e.detail.resumed;
  });

  sig.addEventListener('status', (e) => {
    const {state, reason} = e.detail;
    if (state === 'connecting') ui.status('connecting…');
    if (state === 'joined') {
      ui.status(relayOnly ? 'in the call (relay only)' : 'in the call');
      const b = document.getElementById('banner');
      if (b.dataset.kind === 'warn' || b.dataset.kind === 'error') ui.banner('');
    }
    if (state === 'reconnecting') {
      ui.status('reconnecting…');
      ui.banner(`${reason || 'Connection to the server lost'}. Reconnecting…`, 'warn');
    }
  });
  sig.addEventListener('message', (e) => {
    const msg = e.detail;
    if (msg.type === 'error' && (msg.code === 'server-busy' || msg.code === 'rate-limited')) {
      ui.banner(`The server is busy (${msg.message || msg.code}).`, 'warn');
    }
  });
  sig.addEventListener('fatal', (e) => {
    const {code, text} = e.detail;
    call.leave();
    ui.status('not in the call');
    const msg = FATAL_TEXT[code] || `The server refused to let you in: ${text}`;
    ui.ended(msg, 'error', code === 'replaced' ? null : rejoin);
    document.body.dataset.fatal = code;
  });

  ui.onControl({
    mic: () => {
      call.setAudio(!call.audioOn);
      ui.setTileMedia('self', call.audioOn, call.videoOn);
      controls();
    },
    cam: () => {
      call.setVideo(!call.videoOn);
      ui.setTileMedia('self', call.audioOn, call.videoOn);
      controls();
    },
    chat: (text) => {
      call.chat(text);
      ui.chatLine(name || 'You', text, true);
    },
    leave: () => {
      call.leave();
      ui.status('left');
      ui.ended('You left the call.', 'info', rejoin);
    },
  });

  window.ferryCall = Object.freeze({
    get id() { return sig.id; },
    get room() { return room; },
    get peers() { return [...call.peers.keys()]; },
    get resumed() { return lastResumed; },
    get welcomes() { return welcomes; },
    get _ws() { return sig.ws; },
    stats: () => call.stats(),
    drop: () => sig.drop(),
    restartIce: () => call.restartAll(),
  });

  window.addEventListener('pagehide', () => sig.stopped || call.leave());
  sig.start();
}

const params = new URLSearchParams(location.search);
const ui = new Ui();
if (params.has('room')) {
  join(ui, params).catch((e) => {
    console.error(e);
    ui.ended(`Something went wrong: ${e.message}`, 'error', location.href);
  });
} else {
  lobby(ui, params);
}
