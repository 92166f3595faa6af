// Signaling client for ferry's WebSocket protocol (doc/signaling.md).
//
// One Signaling object is one place in one room.  It opens ws(s)://<host>/ws,
// sends `join`, and after the first `welcome` keeps that place: when the
// socket drops without `leave` it reconnects and joins again with the
// `resume` token of the last `welcome`, so the server gives back the same id
// and the messages it queued meanwhile.  Messages sent while no socket is
// joined wait in a local queue and go out after the next `welcome`; if that
// welcome did not resume (the place was lost), they are dropped, since they
// name peers of the old place.
//
// Events (a CustomEvent each; `detail` is what follows the name):
//   welcome {msg, resumed, idChanged}   after every welcome
//   message msg                         every other server message
//   status {state, reason}              state: 'connecting' | 'joined' |
//                                       'reconnecting' | 'closed'; with
//                                       'reconnecting', reason is a sentence
//                                       saying why
//   fatal {code, text}                  the place is gone for good:
//                                       room-full, unauthorized, replaced,
//                                       or a refused join; no retry follows
// A listener that throws is reported as an uncaught error; the other
// listeners and the dispatching code carry on.

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5000;
const PING_EVERY_MS = 10000;   // well under signaling-idle-timeout (30 s)
const PONG_WAIT_MS = 8000;     // no pong by then: treat the socket as dead
const CONNECT_WAIT_MS = 8000;  // no welcome by then: try again

// Errors that end the session instead of being retried.
const FATAL_JOIN_ERRORS = new Set(['room-full', 'unauthorized', 'bad-message',
  'bad-json', 'already-joined']);

export function signalingUrl(loc = window.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws`;
}

export class Signaling extends EventTarget {
  // opts: {url, room, name, token}
  constructor(opts) {
    super();
    this.url = opts.url || signalingUrl();
    this.room = opts.room;
    this.name = opts.name || '';
    this.token = opts.token || '';
    this.ws = null;          // the current WebSocket (exposed for tests)
    this.id = null;          // own peer id from the last welcome
    this.resumeToken = null;
    this.reconnectGrace = 10;
    this.joined = false;
    this.stopped = false;    // left, or a fatal error: never reconnect
    this.outbox = [];
    this.retryMs = RETRY_MIN_MS;
    this.timers = {};
    this.pingSeq = 0;
  }

  start() {
    this.connect();
  }

  // Queue or send one client message (offer, answer, candidate, broadcast).
  send(msg) {
    if (this.joined && this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(msg));
    } else if (!this.stopped) {
      this.outbox.push(msg);
    }
  }

  // Leave for good: `leave`, then the server closes the socket with 1000.
  leave() {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({type: 'leave'}));
      // The server closes; close ourselves if it has not after a while.
      setTimeout(() => ws.readyState === WebSocket.CLOSED || ws.close(), 2000);
    } else if (ws) {
      ws.close();
    }
    this.dispatchEvent(new CustomEvent('status', {detail: {state: 'closed', reason: 'left'}}));
  }

  // Drop the socket as a network failure would, keeping the place (tests).
  drop() {
    if (this.ws) this.ws.close(4001, 'dropped');
  }

  connect() {
    if (this.stopped) return;
    this.clearTimers();
    this.joined = false;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.scheduleRetry(`Cannot open ${this.url}: ${e.message}`);
      return;
    }
    this.ws = ws;
    this.dispatchEvent(new CustomEvent('status',
      {detail: {state: this.id ? 'reconnecting' : 'connecting'}}));
    this.timers.connect = setTimeout(() => {
      if (ws === this.ws && !this.joined) ws.close(4002, 'join timed out');
    }, CONNECT_WAIT_MS);
    ws.onopen = () => {
      if (ws !== this.ws) return;
      const join = {type: 'join', room: this.room, name: this.name};
      if (this.token) join.token = this.token;
      if (this.resumeToken) join.resume = this.resumeToken;
      ws.send(JSON.stringify(join));
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        console.warn('ferry: signaling sent non-JSON', ev.data);
        return;
      }
      if (msg && typeof msg.type === 'string') this.handle(msg);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;   // an old socket we already gave up on
      this.onClose(ev);
    };
    // onerror is always followed by onclose, which does the work.
  }

  handle(msg) {
    switch (msg.type) {
    case 'welcome': {
      const previous = this.id;
      const resumed = msg.resumed === true;
      this.id = msg.id;
      this.resumeToken = msg.resume;
      if (Number.isFinite(msg.reconnectGrace)) this.reconnectGrace = msg.reconnectGrace;
      this.joined = true;
      this.retryMs = RETRY_MIN_MS;
      clearTimeout(this.timers.connect);
      this.startPing();
      const pending = this.outbox;
      this.outbox = [];
      this.dispatchEvent(new CustomEvent('welcome',
        {detail: {msg, resumed, idChanged: previous !== null && previous !== msg.id}}));
      this.dispatchEvent(new CustomEvent('status',
        {detail: {state: 'joined', reason: resumed ? 'resumed' : ''}}));
      // Messages queued while away name peers of the old place: they are
      // only still meaningful when the place was resumed.
      if (resumed) for (const m of pending) this.send(m);
      return;
    }
    case 'pong':
      clearTimeout(this.timers.pong);
      return;
    case 'error':
      this.onError(msg);
      return;
    default:
      this.dispatchEvent(new CustomEvent('message', {detail: msg}));
    }
  }

  onError(msg) {
    const code = msg.code || 'error';
    const text = msg.message || code;
    if (!this.joined && (msg.ref === 'join' || FATAL_JOIN_ERRORS.has(code))) {
      if (code === 'server-busy' || code === 'rate-limited') {
        this.dispatchEvent(new CustomEvent('status',
          {detail: {state: 'reconnecting', reason: `The server is busy: ${text}`}}));
        this.ws.close(4003, 'retry');
        return;
      }
      this.fail(code, text);
      return;
    }
    if (code === 'unauthorized') {
      this.fail(code, text);
      return;
    }
    // A refused relay (unknown-peer for a peer that just left, rate-limited)
    // is not worth ending the call for.
    console.warn(`ferry: server refused ${msg.ref || 'a message'}: ${code}: ${text}`);
    this.dispatchEvent(new CustomEvent('message', {detail: msg}));
  }

  fail(code, text) {
    this.stopped = true;
    this.clearTimers();
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close();
    this.dispatchEvent(new CustomEvent('fatal', {detail: {code, text}}));
    this.dispatchEvent(new CustomEvent('status', {detail: {state: 'closed', reason: code}}));
  }

  onClose(ev) {
    this.joined = false;
    this.clearTimers();
    if (this.stopped) return;
    if (ev.code === 1008) {
      this.fail('unauthorized', ev.reason || 'The server refused the join token.');
      return;
    }
    if (ev.code === 4000) {
      this.fail('replaced', 'This call was taken over by another window or tab.');
      return;
    }
    let why;
    if (ev.code === 1001) why = 'The server is restarting';
    else if (!this.id && ev.code === 1006) why = 'Cannot reach the server';
    else why = `Connection to the server lost (${ev.code}${ev.reason ? ': ' + ev.reason : ''})`;
    this.scheduleRetry(why);
  }

  scheduleRetry(why) {
    if (this.stopped) return;
    this.dispatchEvent(new CustomEvent('status', {detail: {state: 'reconnecting', reason: why}}));
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    this.timers.retry = setTimeout(() => this.connect(), wait);
  }

  startPing() {
    clearInterval(this.timers.ping);
    this.timers.ping = setInterval(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({type: 'ping', id: ++this.pingSeq}));
      clearTimeout(this.timers.pong);
      this.timers.pong = setTimeout(() => {
        if (ws === this.ws) ws.close(4004, 'no pong');
      }, PONG_WAIT_MS);
    }, PING_EVERY_MS);
  }

  clearTimers() {
    clearTimeout(this.timers.connect);
    clearTimeout(this.timers.retry);
    clearTimeout(this.timers.pong);
    clearInterval(this.timers.ping);
  }
}
