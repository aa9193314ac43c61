// A video "room" over SIP the way the SIP.js multiparty material does it,
// loaded into a page after the SIP.js bundle (window.SIP) by the Go
// video-room test: one extension is the room's shared address; a member
// joins by sending it a MESSAGE ("join"); the room calls the newcomer
// back and tells each member already in (MESSAGE "call EXT") to call the
// newcomer too, so that everyone ends up in a two-party call with
// everyone else (a mesh), each call relayed by the softswitch.
//
// window.room.start(ext, password, toneHz, isRoom) registers ext, sending
// a toneHz tone and the (fake) camera on every call; window.room.join(roomExt)
// sends the MESSAGE; window.room.figures() measures each call: {peer:
// {hz, dBFS, video: rtcstats.video()}}.
"use strict";
(function () {
  const calls = {}; // peer extension -> {session, el}
  let ua = null;
  let audioCtx = null;
  let local = null;
  const members = [];
  const log = [];

  async function localMedia(toneHz) {
    audioCtx = new AudioContext();
    await audioCtx.resume();
    const osc = audioCtx.createOscillator();
    osc.frequency.value = toneHz;
    const dst = audioCtx.createMediaStreamDestination();
    osc.connect(dst);
    osc.start();
    const cam = await navigator.mediaDevices.getUserMedia({ audio: false, video: true });
    return new MediaStream([...dst.stream.getAudioTracks(), ...cam.getVideoTracks()]);
  }

  function uri(ext) {
    return SIP.UserAgent.makeURI("sip:" + ext + "@" + location.hostname);
  }

  const mediaOptions = { sessionDescriptionHandlerOptions: { constraints: { audio: true, video: true } } };

  // track follows a call: its remote media plays in a <video> of its own
  // (Chromium feeds WebAudio from remote WebRTC audio only once an
  // element plays it), measured by an analyser.
  function track(peer, session) {
    const el = document.createElement("video");
    el.autoplay = true;
    el.playsInline = true;
    el.id = "call-" + peer;
    document.body.appendChild(el);
    const c = { session, el, analyser: null };
    calls[peer] = c;
    session.stateChange.addListener((state) => {
      log.push(peer + " " + state);
      if (state === SIP.SessionState.Established) {
        const stream = session.sessionDescriptionHandler.remoteMediaStream;
        el.srcObject = stream;
        c.analyser = audioCtx.createAnalyser();
        c.analyser.fftSize = 8192;
        audioCtx.createMediaStreamSource(stream).connect(c.analyser);
      }
      if (state === SIP.SessionState.Terminated) delete calls[peer];
    });
  }

  function call(peer) {
    if (calls[peer]) return;
    const inv = new SIP.Inviter(ua, uri(peer), mediaOptions);
    track(peer, inv);
    inv.invite().catch((e) => log.push("invite " + peer + ": " + e.message));
  }

  function send(to, body) {
    return new SIP.Messager(ua, uri(to), body).message();
  }

  async function start(ext, password, toneHz, isRoom) {
    local = await localMedia(toneHz);
    const sdhFactory = SIP.Web.defaultSessionDescriptionHandlerFactory(async () => local.clone());
    ua = new SIP.UserAgent({
      uri: uri(ext),
      transportOptions: { server: "wss://" + location.host + "/ws" },
      authorizationUsername: ext,
      authorizationPassword: password,
      sessionDescriptionHandlerFactory: sdhFactory,
      delegate: {
        onInvite: (inv) => {
          const peer = inv.remoteIdentity.uri.user;
          track(peer, inv);
          inv.accept(mediaOptions).catch((e) => log.push("accept " + peer + ": " + e.message));
        },
        onMessage: (m) => {
          const from = m.request.from.uri.user;
          const body = m.request.body;
          log.push("message from " + from + ": " + body);
          m.accept();
          if (isRoom && body === "join") {
            for (const other of members) if (other !== from) send(other, "call " + from);
            if (!members.includes(from)) members.push(from);
            call(from);
          } else if (body.startsWith("call ")) {
            call(body.slice(5));
          }
        },
      },
    });
    await ua.start();
    await new SIP.Registerer(ua).register();
    return true;
  }

  async function figures() {
    const out = {};
    for (const [peer, c] of Object.entries(calls)) {
      const f = { hz: 0, dBFS: -200, video: null, state: c.session.state };
      if (c.analyser) {
        const fr = new Float32Array(c.analyser.frequencyBinCount);
        c.analyser.getFloatFrequencyData(fr);
        let best = 1;
        for (let i = 2; i < fr.length; i++) if (fr[i] > fr[best]) best = i;
        const td = new Float32Array(c.analyser.fftSize);
        c.analyser.getFloatTimeDomainData(td);
        let sum = 0;
        for (const v of td) sum += v * v;
        f.hz = (best * audioCtx.sampleRate) / c.analyser.fftSize;
        f.dBFS = 20 * Math.log10(Math.sqrt(sum / td.length) || 1e-9);
      }
      const pc = c.session.sessionDescriptionHandler && c.session.sessionDescriptionHandler.peerConnection;
      if (pc) f.video = await window.rtcstats.video(pc);
      out[peer] = f;
    }
    return out;
  }

  function hangupAll() {
    for (const c of Object.values(calls)) {
      if (c.session.state === SIP.SessionState.Established) c.session.bye();
    }
  }

  window.room = { start, join: (roomExt) => send(roomExt, "join").then(() => true), figures, hangupAll, log: () => log.slice() };
})();
