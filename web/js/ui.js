// The page: tiles, banner, status line, chat and controls.  Only DOM work
// here; main.js wires it to the call.

const $ = (id) => document.getElementById(id);

const MIN_TILE_W = 120;

const STATE_TEXT = {
  new: 'waiting',
  connecting: 'connecting…',
  connected: 'connected',
  disconnected: 'interrupted…',
  failed: 'failed',
  restarting: 'reconnecting…',
  closed: 'closed',
};

export class Ui {
  constructor() {
    this.tiles = new Map();   // peer id ('self' for our own) -> tile element
    this.muted = false;       // remote audio blocked by the autoplay policy
    this.unread = 0;
  }

  // ------------------------------------------------------------ lobby

  showLobby(defaults, onJoin) {
    $('lobby').hidden = false;
    const name = $('lobby-name');
    const room = $('lobby-room');
    name.value = defaults.name || '';
    room.value = defaults.room || '';
    const update = () => {
      const link = roomLink(room.value.trim());
      $('lobby-link').href = link;
      $('lobby-link').textContent = link;
    };
    room.addEventListener('input', update);
    update();
    $('lobby-copy').addEventListener('click', () => copy($('lobby-link').textContent, $('lobby-copy')));
    $('lobby-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!room.checkValidity()) {
        room.reportValidity();
        return;
      }
      onJoin(room.value.trim(), name.value.trim());
    });
    (name.value ? room : name).focus();
  }

  // ------------------------------------------------------------ call

  showCall(room) {
    $('call').hidden = false;
    $('room-name').textContent = room;
    document.title = `${room} – ferry call`;
    $('copy-link').addEventListener('click', () => copy(roomLink(room), $('copy-link')));
    this.watchLayout();
  }

  status(text) {
    $('status').textContent = text;
  }

  // kind: 'info' | 'warn' | 'error'; an empty text hides the banner.
  banner(text, kind = 'info') {
    const b = $('banner');
    b.hidden = !text;
    b.textContent = text || '';
    b.className = `banner ${kind}`;
    b.dataset.kind = kind;
  }

  // A second, lasting line for what the local media lacks.
  mediaNotice(text) {
    if (!text) return;
    let n = $('media-notice');
    if (!n) {
      n = document.createElement('div');
      n.id = 'media-notice';
      n.className = 'banner warn';
      $('banner').after(n);
    }
    n.textContent = text;
  }

  addTile(id, name, self = false) {
    if (this.tiles.has(id)) return this.tiles.get(id);
    const tile = $('tile-template').content.firstElementChild.cloneNode(true);
    tile.dataset.peer = id;
    tile.querySelector('.name').textContent = name || (self ? 'You' : 'Guest');
    tile.querySelector('.placeholder').textContent = initial(name);
    const video = tile.querySelector('video');
    if (self) {
      tile.classList.add('self');
      video.muted = true;   // never play our own microphone back
      tile.querySelector('.state').textContent = 'you';
    } else {
      this.setTileState(id, 'new');
    }
    $('grid').append(tile);
    this.tiles.set(id, tile);
    this.layout();
    return tile;
  }

  removeTile(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    const video = tile.querySelector('video');
    video.srcObject = null;
    tile.remove();
    this.tiles.delete(id);
    this.layout();
  }

  // Pick the column count that gives the largest 4:3 tiles in the grid's
  // box (at least MIN_TILE_W wide; beyond that the grid scrolls).
  layout() {
    const grid = $('grid');
    const n = Math.max(this.tiles.size, 1);
    grid.dataset.count = String(this.tiles.size);
    const style = getComputedStyle(grid);
    const gap = parseFloat(style.columnGap) || 0;
    const w = grid.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 1;
    const h = grid.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom) - 1;
    if (w <= 0 || h <= 0) return;
    // Room for the tile border (2 px each side) in the 4:3 sum.
    let best = 0;
    for (let cols = 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const tw = Math.min((w - gap * (cols - 1)) / cols, ((h - gap * (rows - 1)) / rows) * 4 / 3);
      best = Math.max(best, tw);
    }
    grid.style.setProperty('--tile-w', `${Math.floor(Math.max(best, MIN_TILE_W))}px`);
  }

  watchLayout() {
    if (this.observer) return;
    this.observer = new ResizeObserver(() => this.layout());
    this.observer.observe($('grid'));
  }

  setTileName(id, name) {
    const tile = this.tiles.get(id);
    if (tile && name) {
      tile.querySelector('.name').textContent = name;
      tile.querySelector('.placeholder').textContent = initial(name);
    }
  }

  setTileStream(id, stream) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    const video = tile.querySelector('video');
    if (video.srcObject !== stream) video.srcObject = stream;
    if (!tile.classList.contains('self') && this.muted) video.muted = true;
    this.play(video);
  }

  // Autoplay with sound may be refused (no capture, no gesture yet): then
  // play muted and offer to turn the sound on.
  play(video) {
    const p = video.play();
    if (!p) return;
    p.catch((err) => {
      if (err.name !== 'NotAllowedError' || video.muted) return;
      video.muted = true;
      this.muted = true;
      video.play().catch(() => {});
      this.banner('Sound is paused by the browser: tap or click anywhere to hear the others.', 'info');
      document.addEventListener('click', () => this.unmuteAll(), {once: true});
    });
  }

  unmuteAll() {
    this.muted = false;
    for (const tile of this.tiles.values()) {
      if (tile.classList.contains('self')) continue;
      const video = tile.querySelector('video');
      video.muted = false;
      video.play().catch(() => {});
    }
    if ($('banner').textContent.startsWith('Sound is paused')) this.banner('');
  }

  setTileState(id, state) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    tile.dataset.state = state;
    tile.querySelector('.state').textContent = STATE_TEXT[state] || state;
  }

  setTileMedia(id, audio, video) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    tile.dataset.audio = String(audio);
    tile.dataset.video = String(video);
    tile.querySelector('.flag-mic').hidden = audio;
    tile.querySelector('.flag-cam').hidden = video;
  }

  // ------------------------------------------------------------ controls

  setControls(opts) {
    const mic = $('btn-mic');
    const cam = $('btn-cam');
    mic.disabled = !opts.hasAudio;
    cam.disabled = !opts.hasVideo;
    mic.setAttribute('aria-pressed', String(opts.audio));
    cam.setAttribute('aria-pressed', String(opts.video));
    mic.textContent = opts.audio ? 'Mute' : 'Unmute';
    cam.textContent = opts.video ? 'Camera off' : 'Camera on';
    if (!opts.hasAudio) mic.textContent = 'No mic';
    if (!opts.hasVideo) cam.textContent = 'No camera';
  }

  onControl(handlers) {
    $('btn-mic').addEventListener('click', handlers.mic);
    $('btn-cam').addEventListener('click', handlers.cam);
    $('btn-leave').addEventListener('click', handlers.leave);
    $('btn-chat').addEventListener('click', () => this.toggleChat());
    $('chat-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = $('chat-input');
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      handlers.chat(text);
    });
  }

  toggleChat(show) {
    const chat = $('chat');
    chat.hidden = show === undefined ? !chat.hidden : !show;
    $('btn-chat').setAttribute('aria-pressed', String(!chat.hidden));
    if (!chat.hidden) {
      this.unread = 0;
      $('chat-unread').hidden = true;
      $('chat-input').focus();
    }
  }

  chatLine(name, text, self = false) {
    const li = document.createElement('li');
    if (self) li.className = 'self';
    const who = document.createElement('b');
    who.textContent = `${name}: `;
    li.append(who, document.createTextNode(text));
    const log = $('chat-log');
    log.append(li);
    log.scrollTop = log.scrollHeight;
    if ($('chat').hidden && !self) {
      this.unread += 1;
      $('chat-unread').textContent = String(this.unread);
      $('chat-unread').hidden = false;
    }
  }

  // The call is over: no controls, one message and a way back in.
  ended(text, kind, rejoinHref) {
    this.banner(text, kind);
    const b = $('banner');
    if (rejoinHref) {
      const a = document.createElement('a');
      a.href = rejoinHref;
      a.textContent = 'Join again';
      a.className = 'rejoin';
      b.append(' ', a);
    }
    for (const id of [...this.tiles.keys()]) this.removeTile(id);
    for (const el of document.querySelectorAll('.controls button')) el.disabled = true;
    $('chat-input').disabled = true;
    document.body.classList.add('ended');
  }
}

export function roomLink(room) {
  return `${location.origin}/?room=${encodeURIComponent(room)}`;
}

function initial(name) {
  return (name || '?').trim().charAt(0).toUpperCase() || '?';
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    flash(button, 'Copied');
  } catch {
    // No clipboard (insecure page): let the user copy it by hand.
    window.prompt('Copy this link:', text);
  }
}

function flash(button, text) {
  const old = button.textContent;
  button.textContent = text;
  setTimeout(() => { button.textContent = old; }, 1500);
}
