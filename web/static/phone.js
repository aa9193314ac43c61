// softswitch web phone: JsSIP over secure WebSocket on this page's origin.
// window.phone is the same API the buttons use; the browser tests drive it.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const wsURL = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  let ua = null;
  let session = null;
  let toneHz = 0; // 0: microphone
  let audioCtx = null;
  let analyser = null;
  let statsTimer = null;
  let lastStatus = "";
  let lastCallID = ""; // the Call-ID of the last call, shown for support
  const chat = []; // {dir: "in"|"out", peer, body, state}, oldest first

  function status(text) {
    lastStatus = text;
    $("status").textContent = text;
  }
  function error(text) {
    $("error").textContent = text;
    $("error").hidden = !text;
  }
  function show(ids, on) {
    for (const id of ids) $(id).hidden = !on;
  }
  function ctx() {
    if (!audioCtx) audioCtx = new AudioContext();
    return audioCtx;
  }

  // The audio we send: the microphone, or a test tone.
  async function localStream() {
    if (toneHz > 0) {
      const c = ctx();
      await c.resume();
      const osc = c.createOscillator();
      osc.frequency.value = toneHz;
      const gain = c.createGain();
      gain.gain.value = 0.3;
      const dst = c.createMediaStreamDestination();
      osc.connect(gain).connect(dst);
      osc.start();
      return dst.stream;
    }
    try {
      return await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    } catch (e) {
      if (e.name === "NotAllowedError" || e.name === "SecurityError") {
        throw new Error("Microphone blocked: allow microphone access for this site (or tick the test tone box).");
      }
      if (e.name === "NotFoundError") {
        throw new Error("No microphone found (tick the test tone box to call without one).");
      }
      throw new Error("Microphone unavailable: " + e.message);
    }
  }

  function login(ext, password) {
    error("");
    if (ua) ua.stop();
    const socket = new JsSIP.WebSocketInterface(wsURL);
    ua = new JsSIP.UA({
      sockets: [socket],
      uri: "sip:" + ext + "@" + location.hostname,
      password: password,
      register: true,
      session_timers: true,
    });
    ua.on("connecting", () => status("Connecting to " + wsURL + "…"));
    ua.on("disconnected", (e) => {
      if (e && e.error) {
        status("Disconnected.");
        error("Cannot reach the server's WebSocket. If the browser warned about the certificate, open " +
          location.origin + " and accept it, then log in again.");
      }
    });
    ua.on("registered", () => {
      status("Registered as " + ext + ".");
      $("who").textContent = "Extension " + ext;
      show(["login"], false);
      show(["phone"], true);
    });
    ua.on("registrationFailed", (e) => {
      const code = e.response && e.response.status_code;
      if (code === 403 || code === 401 || e.cause === JsSIP.C.causes.AUTHENTICATION_ERROR || e.cause === JsSIP.C.causes.REJECTED) {
        error("Wrong extension or password.");
      } else if (code === 503) {
        error("Too many attempts or the server is busy: wait a little and try again.");
      } else {
        error("Registration failed: " + (e.cause || code));
      }
      status("Not registered.");
    });
    ua.on("newMessage", (e) => {
      if (e.originator === "remote") chatAdd("in", e.request.from.uri.user, e.request.body || "", "received");
    });
    ua.on("newRTCSession", (e) => {
      // The call's id, for the operator (`softswitch call show ID`).
      if (e.request && e.request.call_id && !session) {
        lastCallID = e.request.call_id;
        $("callid").textContent = "Last call id (for support): " + lastCallID;
        $("callid").hidden = false;
      }
      adopt(e.session, e.originator === "remote");
    });
    ua.start();
  }

  function adopt(s, incoming) {
    if (session) {
      if (incoming) s.terminate({ status_code: 486, reason_phrase: "Busy Here" });
      return;
    }
    session = s;
    s.on("peerconnection", (e) => watchTracks(e.peerconnection));
    if (s.connection) watchTracks(s.connection);
    s.on("progress", () => status(incoming ? "Incoming call from " + s.remote_identity.uri.user + "…" : "Ringing…"));
    s.on("accepted", () => status("In call."));
    s.on("confirmed", () => {
      status("In call.");
      startStats();
    });
    s.on("ended", (e) => finished("Call ended (" + (e.cause || "hangup") + ")."));
    s.on("failed", (e) => finished("Call failed: " + (e.cause || "unknown") + "."));
    show(["call", "testcall"], false);
    show(["hangup", "mute"], !incoming);
    show(["answer", "reject"], incoming);
    if (incoming) status("Incoming call from " + s.remote_identity.uri.user + ".");
  }

  function finished(text) {
    status(text);
    session = null;
    clearInterval(statsTimer);
    statsTimer = null;
    show(["call", "testcall"], true);
    show(["hangup", "mute", "answer", "reject"], false);
    $("level").value = 0;
  }

  function watchTracks(pc) {
    pc.addEventListener("track", (e) => {
      const stream = e.streams[0] || new MediaStream([e.track]);
      $("remote").srcObject = stream;
      const c = ctx();
      analyser = c.createAnalyser();
      analyser.fftSize = 8192;
      c.createMediaStreamSource(stream).connect(analyser);
      c.resume();
    });
  }

  async function call(target) {
    error("");
    if (!ua || !ua.isRegistered()) return error("Log in first.");
    if (!target) return error("Enter a number to call.");
    try {
      const stream = await localStream();
      ua.call(target, { mediaStream: stream, pcConfig: { iceServers: [] } });
    } catch (e) {
      error(e.message);
    }
  }

  async function answer() {
    if (!session) return;
    try {
      const stream = await localStream();
      session.answer({ mediaStream: stream, pcConfig: { iceServers: [] } });
      show(["answer", "reject"], false);
      show(["hangup", "mute"], true);
    } catch (e) {
      error(e.message);
      session.terminate({ status_code: 480 });
    }
  }

  function hangup() {
    if (session) session.terminate();
  }

  function dtmf(digit, how) {
    if (!session) return;
    session.sendDTMF(digit, { transportType: how === "rfc4733" ? "RFC2833" : "INFO", duration: 160 });
  }

  // analysis measures what we hear: dominant frequency and level.
  function analysis() {
    if (!analyser) return { hz: 0, dBFS: -Infinity };
    const n = analyser.fftSize;
    const time = new Float32Array(n);
    analyser.getFloatTimeDomainData(time);
    let sum = 0;
    for (const v of time) sum += v * v;
    const rms = Math.sqrt(sum / n);
    const freq = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(freq);
    let best = 1;
    for (let i = 2; i < freq.length; i++) if (freq[i] > freq[best]) best = i;
    return { hz: (best * audioCtx.sampleRate) / n, dBFS: 20 * Math.log10(rms || 1e-9) };
  }

  async function stats() {
    if (!session || !session.connection) return null;
    const report = await session.connection.getStats();
    const out = { codec: "", packetsReceived: 0, packetsLost: 0, jitter: 0, rtt: null, dtls: "" };
    const codecs = {};
    report.forEach((s) => {
      if (s.type === "codec") codecs[s.id] = s.mimeType;
    });
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") {
        out.codec = codecs[s.codecId] || out.codec;
        out.packetsReceived = s.packetsReceived;
        out.packetsLost = s.packetsLost;
        out.jitter = s.jitter;
      }
      if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined) out.rtt = s.currentRoundTripTime;
      if (s.type === "transport") out.dtls = s.dtlsState;
    });
    return out;
  }

  function startStats() {
    clearInterval(statsTimer);
    statsTimer = setInterval(async () => {
      const a = analysis();
      $("level").value = Math.max(0, Math.min(1, (a.dBFS + 60) / 60));
      const s = await stats();
      if (!s) return;
      const rtt = s.rtt === null ? "" : ", round trip " + Math.round(s.rtt * 1000) + " ms";
      status("In call: " + (s.codec || "?").replace("audio/", "") + ", " + s.packetsReceived + " packets, " +
        s.packetsLost + " lost" + rtt + ".");
    }, 1000);
  }

  // Buttons.
  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    login($("ext").value.trim(), $("password").value);
  });
  $("pad").addEventListener("click", (e) => {
    if (e.target.tagName !== "BUTTON") return;
    if (session) dtmf(e.target.textContent, "info");
    else $("number").value += e.target.textContent;
  });
  $("call").addEventListener("click", () => call($("number").value.trim()));
  $("testcall").addEventListener("click", () => call("07010002000"));
  $("answer").addEventListener("click", answer);
  $("reject").addEventListener("click", () => session && session.terminate({ status_code: 603 }));
  $("hangup").addEventListener("click", hangup);
  $("logout").addEventListener("click", () => {
    if (ua) ua.stop();
    ua = null;
    show(["phone"], false);
    show(["login"], true);
    status("Not logged in.");
  });
  $("mute").addEventListener("click", () => {
    if (!session) return;
    const muted = session.isMuted().audio;
    if (muted) session.unmute({ audio: true });
    else session.mute({ audio: true });
    $("mute").setAttribute("aria-pressed", String(!muted));
    $("mute").textContent = muted ? "Mute" : "Unmute";
  });
  $("tone").addEventListener("change", (e) => {
    toneHz = e.target.checked ? 440 : 0;
  });

  // Instant messages (SIP MESSAGE). A message to an extension with no
  // device registered is stored by the server (202) and delivered later.
  function chatAdd(dir, peer, body, state) {
    const m = { dir, peer, body, state };
    chat.push(m);
    const li = document.createElement("li");
    li.className = dir;
    li.textContent = (dir === "in" ? peer + ": " : "to " + peer + ": ") + body + (dir === "out" ? " (" + state + ")" : "");
    $("chatlog").appendChild(li);
    return m;
  }
  function sendMessage(to, text) {
    return new Promise((resolve) => {
      if (!ua) return resolve(0);
      ua.sendMessage(to, text, {
        eventHandlers: {
          succeeded: (e) => {
            const code = e.response.status_code;
            chatAdd("out", to, text, code === 202 ? "stored" : "delivered");
            resolve(code);
          },
          failed: (e) => {
            const code = e.response ? e.response.status_code : 0;
            chatAdd("out", to, text, "not sent: " + (code || e.cause));
            resolve(code);
          },
        },
      });
    });
  }
  $("chatsend").addEventListener("click", () => {
    if ($("chatto").value && $("chattext").value) sendMessage($("chatto").value, $("chattext").value);
    $("chattext").value = "";
  });

  window.phone = {
    login,
    call,
    answer,
    hangup,
    dtmf,
    hold: () => !!session && session.hold(),
    unhold: () => !!session && session.unhold(),
    held: () => !!session && session.isOnHold().local,
    transfer: (target) => {
      if (session) session.refer(target);
    },
    analysis,
    stats,
    setTone: (hz) => {
      toneHz = hz || 0;
      $("tone").checked = toneHz > 0;
    },
    registered: () => !!ua && ua.isRegistered(),
    inCall: () => !!session && session.isEstablished(),
    incoming: () => !!session && session.direction === "incoming" && !session.isEstablished(),
    status: () => lastStatus,
    lastCallID: () => lastCallID,
    error: () => $("error").textContent,
    sendMessage,
    messages: () => chat.slice(),
  };
})();
