// The mesh: one RTCPeerConnection per remote peer, negotiated as
// doc/signaling.md recommends.  A peer that is already in the room offers
// to a newcomer when it gets `peer-joined`; the newcomer only answers.  So
// each connection has exactly one offering side, which rules out glare and
// makes that side the one that restarts ICE when the connection fails.
//
// Events (a CustomEvent each; `detail` is what follows the name):
//   peer-added peer       a remote peer to show (peer.id, peer.name)
//   peer-removed peer
//   peer-stream {peer, stream}
//   peer-state peer       peer.state changed ('new', 'connecting',
//                         'connected', 'disconnected', 'failed', 'restarting')
//   peer-media peer       peer.audio / peer.video changed (its broadcast)
//   chat {peer, text}     a chat line from peer
//   welcome {msg, resumed, idChanged}  the signaling client's, after the
//                         call has handled it
// A listener that throws is reported as an uncaught error; the other
// listeners and the dispatching code carry on.

const DISCONNECTED_GRACE_MS = 4000;   // 'disconnected' this long: restart ICE
const RESTART_MIN_GAP_MS = 3000;

export class Call extends EventTarget {
  // signaling: a Signaling; local: {stream, audio, video}; relayOnly: bool
  constructor(signaling, local, relayOnly) {
    super();
    this.sig = signaling;
    this.local = local;
    this.relayOnly = relayOnly;
    this.iceServers = [];
    this.peers = new Map();   // id -> peer
    this.audioOn = local.audio;
    this.videoOn = local.video;
    signaling.addEventListener('welcome', (e) => this.onWelcome(e.detail));
    signaling.addEventListener('message', (e) => this.onMessage(e.detail));
  }

  // ---------------------------------------------------------------- signaling

  // detail: the signaling client's welcome detail, {msg, resumed, idChanged}
  onWelcome(detail) {
    const {msg, resumed} = detail;
    this.iceServers = Array.isArray(msg.iceServers) ? msg.iceServers : [];
    const listed = new Map((msg.peers || []).map((p) => [p.id, p]));
    if (!resumed) {
      // A new place: whatever we had belongs to an id the others have
      // already seen leave.  Start over as a newcomer, whom they offer to.
      for (const peer of [...this.peers.values()]) this.removePeer(peer.id);
      for (const p of listed.values()) this.addPeer(p, false);
    } else {
      // Same place.  Peers that left meanwhile are dropped; peers that
      // joined meanwhile announce themselves through the queued
      // `peer-joined`, which follows this welcome.  If the queue overflowed
      // and lost it, offer to them anyway after a moment: we were here first.
      for (const id of [...this.peers.keys()]) if (!listed.has(id)) this.removePeer(id);
      setTimeout(() => {
        for (const p of listed.values()) if (!this.peers.has(p.id)) this.addPeer(p, true);
      }, 2000);
      // New TURN credentials: used at the next ICE restart.
      for (const peer of this.peers.values()) {
        try {
          peer.pc.setConfiguration(this.rtcConfig());
        } catch (e) {
          console.warn('ferry: setConfiguration failed', e);
        }
      }
    }
    this.sendState();
    this.dispatchEvent(new CustomEvent('welcome', {detail}));
  }

  onMessage(msg) {
    switch (msg.type) {
    case 'peer-joined':
      if (msg.peer && typeof msg.peer.id === 'string') {
        if (this.peers.has(msg.peer.id)) this.removePeer(msg.peer.id);
        this.addPeer(msg.peer, true);
        this.sendState();
      }
      break;
    case 'peer-left':
      this.removePeer(msg.id);
      break;
    case 'offer':
      this.onOffer(msg.from, msg.sdp);
      break;
    case 'answer':
      this.onAnswer(msg.from, msg.sdp);
      break;
    case 'candidate':
      this.onCandidate(msg.from, msg.candidate);
      break;
    case 'broadcast':
      this.onBroadcast(msg.from, msg.data);
      break;
    default:
      break;
    }
  }

  onBroadcast(from, data) {
    const peer = this.peers.get(from);
    if (!peer || !data || typeof data !== 'object') return;
    if (data.kind === 'state') {
      peer.audio = data.audio !== false;
      peer.video = data.video !== false;
      this.dispatchEvent(new CustomEvent('peer-media', {detail: peer}));
    } else if (data.kind === 'chat' && typeof data.text === 'string') {
      this.dispatchEvent(new CustomEvent('chat', {detail: {peer, text: data.text.slice(0, 2000)}}));
    }
  }

  // ---------------------------------------------------------------- peers

  rtcConfig() {
    const cfg = {iceServers: this.iceServers, bundlePolicy: 'max-bundle'};
    if (this.relayOnly) cfg.iceTransportPolicy = 'relay';
    return cfg;
  }

  // offerer: true when we are the side that offers (we were here first).
  addPeer(info, offerer) {
    const peer = {
      id: info.id,
      name: typeof info.name === 'string' ? info.name : '',
      offerer,
      pc: null,
      stream: new MediaStream(),
      state: 'new',
      audio: true,
      video: true,
      pending: [],          // remote candidates waiting for the description
      lastRestart: 0,
      restarts: 0,          // ICE restarts this side started
      disconnectTimer: null,
    };
    this.peers.set(peer.id, peer);
    peer.pc = this.createPc(peer);
    this.dispatchEvent(new CustomEvent('peer-added', {detail: peer}));
    if (offerer) this.makeOffer(peer, false);
    return peer;
  }

  removePeer(id) {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    clearTimeout(peer.disconnectTimer);
    try {
      peer.pc.close();
    } catch {
      // already closed
    }
    this.dispatchEvent(new CustomEvent('peer-removed', {detail: peer}));
  }

  createPc(peer) {
    const pc = new RTCPeerConnection(this.rtcConfig());
    const stream = this.local.stream;
    for (const kind of ['audio', 'video']) {
      const track = stream && stream.getTracks().find((t) => t.kind === kind);
      if (track) {
        pc.addTrack(track, stream);
      } else if (peer.offerer) {
        // Nothing to send, but the offer must still ask for their media.
        pc.addTransceiver(kind, {direction: 'recvonly'});
      }
    }
    pc.onicecandidate = (ev) => {
      if (this.peers.get(peer.id) !== peer) return;
      this.sig.send({type: 'candidate', to: peer.id,
        candidate: ev.candidate ? ev.candidate.toJSON() : null});
    };
    pc.ontrack = (ev) => {
      if (!peer.stream.getTracks().includes(ev.track)) peer.stream.addTrack(ev.track);
      ev.track.onended = () => peer.stream.removeTrack(ev.track);
      this.dispatchEvent(new CustomEvent('peer-stream', {detail: {peer, stream: peer.stream}}));
    };
    pc.onconnectionstatechange = () => this.onConnectionState(peer);
    return pc;
  }

  setState(peer, state) {
    if (peer.state === state) return;
    peer.state = state;
    this.dispatchEvent(new CustomEvent('peer-state', {detail: peer}));
  }

  onConnectionState(peer) {
    if (this.peers.get(peer.id) !== peer) return;
    const s = peer.pc.connectionState;
    clearTimeout(peer.disconnectTimer);
    if (s === 'failed') {
      this.setState(peer, 'failed');
      this.restartIce(peer);
    } else if (s === 'disconnected') {
      this.setState(peer, 'disconnected');
      peer.disconnectTimer = setTimeout(() => {
        if (peer.pc.connectionState === 'disconnected') this.restartIce(peer);
      }, DISCONNECTED_GRACE_MS);
    } else {
      this.setState(peer, s);
    }
  }

  // Restart ICE towards every peer we offer to (tests, or a user's
  // "reconnect"); returns how many restarts began.
  restartAll() {
    let n = 0;
    for (const peer of this.peers.values()) {
      if (!peer.offerer) continue;
      peer.lastRestart = 0;
      this.restartIce(peer);
      n += 1;
    }
    return n;
  }

  // Only the offering side restarts; the other side sees the new offer.
  restartIce(peer) {
    if (!peer.offerer || this.peers.get(peer.id) !== peer) return;
    const now = Date.now();
    if (now - peer.lastRestart < RESTART_MIN_GAP_MS) {
      clearTimeout(peer.restartTimer);
      peer.restartTimer = setTimeout(() => this.restartIce(peer),
        RESTART_MIN_GAP_MS - (now - peer.lastRestart));
      return;
    }
    peer.lastRestart = now;
    peer.restarts += 1;
    this.setState(peer, 'restarting');
    this.makeOffer(peer, true);
  }

  async makeOffer(peer, iceRestart) {
    const pc = peer.pc;
    try {
      if (pc.signalingState !== 'stable') {
        // An answer is still outstanding: the restart follows it.
        peer.restartAfterAnswer = true;
        return;
      }
      const offer = await pc.createOffer(iceRestart ? {iceRestart: true} : {});
      if (this.peers.get(peer.id) !== peer) return;
      await pc.setLocalDescription(offer);
      this.sig.send({type: 'offer', to: peer.id, sdp: pc.localDescription.sdp});
    } catch (e) {
      console.error(`ferry: offer to ${peer.id} failed`, e);
    }
  }

  async onOffer(from, sdp) {
    if (typeof sdp !== 'string') return;
    let peer = this.peers.get(from);
    if (!peer) peer = this.addPeer({id: from, name: ''}, false);
    if (peer.offerer) {
      // Both sides think they offer: the server's ordering says otherwise.
      // Yield: whoever got an offer answers it, as a newcomer would.
      this.removePeer(from);
      peer = this.addPeer({id: from, name: peer.name}, false);
    }
    const pc = peer.pc;
    try {
      await pc.setRemoteDescription({type: 'offer', sdp});
      await this.flushCandidates(peer);
      const answer = await pc.createAnswer();
      if (this.peers.get(peer.id) !== peer) return;
      await pc.setLocalDescription(answer);
      this.sig.send({type: 'answer', to: peer.id, sdp: pc.localDescription.sdp});
    } catch (e) {
      console.error(`ferry: answering ${from} failed`, e);
    }
  }

  async onAnswer(from, sdp) {
    const peer = this.peers.get(from);
    if (!peer || typeof sdp !== 'string') return;
    if (peer.pc.signalingState !== 'have-local-offer') return;
    try {
      await peer.pc.setRemoteDescription({type: 'answer', sdp});
      await this.flushCandidates(peer);
    } catch (e) {
      console.error(`ferry: answer from ${from} failed`, e);
    }
    if (peer.restartAfterAnswer) {
      peer.restartAfterAnswer = false;
      this.restartIce(peer);
    }
  }

  async onCandidate(from, candidate) {
    const peer = this.peers.get(from);
    if (!peer) return;
    if (!peer.pc.remoteDescription) {
      peer.pending.push(candidate);
      return;
    }
    await this.addCandidate(peer, candidate);
  }

  async flushCandidates(peer) {
    const list = peer.pending;
    peer.pending = [];
    for (const c of list) await this.addCandidate(peer, c);
  }

  async addCandidate(peer, candidate) {
    try {
      // null: the end of the remote side's candidates.
      if (candidate) await peer.pc.addIceCandidate(candidate);
      else await peer.pc.addIceCandidate();
    } catch (e) {
      // A candidate of an older ICE generation fails harmlessly.
      console.warn(`ferry: candidate from ${peer.id} refused`, e.message);
    }
  }

  // ---------------------------------------------------------------- controls

  sendState() {
    this.sig.send({type: 'broadcast',
      data: {kind: 'state', audio: this.audioOn, video: this.videoOn}});
  }

  setAudio(on) {
    this.audioOn = Boolean(on) && this.local.audio;
    this.setTracks('audio', this.audioOn);
    this.sendState();
  }

  setVideo(on) {
    this.videoOn = Boolean(on) && this.local.video;
    this.setTracks('video', this.videoOn);
    this.sendState();
  }

  setTracks(kind, enabled) {
    if (!this.local.stream) return;
    for (const t of this.local.stream.getTracks()) if (t.kind === kind) t.enabled = enabled;
  }

  chat(text) {
    this.sig.send({type: 'broadcast', data: {kind: 'chat', text}});
  }

  leave() {
    for (const id of [...this.peers.keys()]) this.removePeer(id);
    this.sig.leave();
    if (this.local.stream) for (const t of this.local.stream.getTracks()) t.stop();
  }

  // ---------------------------------------------------------------- stats

  // Per peer: the selected candidate pair's local and remote candidate
  // types, and inbound video's framesDecoded (audio: packetsReceived).
  async stats() {
    const out = {};
    for (const peer of this.peers.values()) {
      const s = {state: peer.pc.connectionState, ice: peer.pc.iceConnectionState,
        offerer: peer.offerer, restarts: peer.restarts, pair: null, local: null, remote: null, framesDecoded: 0, audioPackets: 0};
      try {
        const report = await peer.pc.getStats();
        let pairId = null;
        report.forEach((r) => {
          if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
        });
        const pair = pairId ? report.get(pairId) : null;
        s.pair = pairId;
        if (pair) {
          const l = report.get(pair.localCandidateId);
          const r = report.get(pair.remoteCandidateId);
          s.local = l ? l.candidateType : null;
          s.remote = r ? r.candidateType : null;
        }
        report.forEach((r) => {
          if (r.type !== 'inbound-rtp') return;
          if (r.kind === 'video') s.framesDecoded += r.framesDecoded || 0;
          if (r.kind === 'audio') s.audioPackets += r.packetsReceived || 0;
        });
      } catch (e) {
        s.error = String(e);
      }
      out[peer.id] = s;
    }
    return out;
  }
}
