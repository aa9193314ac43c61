// softswitch web phone: JsSIP over secure WebSocket on this page's origin.
// window.phone is the same API the buttons use; the browser tests drive it.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  // site.js (the server's configuration) names the WebSocket: this origin's
  // /ws, or a proxy (Kamailio) in front of several nodes.
  const site = window.softswitchSite;
  const wsURL = site.wsURL;
  let ua = null;
  let session = null;
  let toneHz = 0; // 0: microphone
  let audioCtx = null;
  let statsTimer = null;
  let lastStatus = "";
  let lastCallID = ""; // the Call-ID of the last call, shown for support
  const chat = []; // {dir: "in"|"out", peer, body, state}, oldest first
  let number = ""; // the other party of the current call
  let incomingCall = false;
  let answeredAt = 0; // ms, 0 until answered
  let heard = null; // analyser of everything the user hears
  let mic = null; // analyser of what we send
  let tones = null;
  let meterTimer = null;
  let everConnected = false;
  // Keep-alive: an OPTIONS every second on the WebSocket; one unanswered
  // for 3 s means the server is gone even if the socket still looks open
  // (shown at most 4.5 s after the server stops: next ping, 3 s, next
  // check). Counted from the oldest unanswered OPTIONS, not from the last
  // answer: a late timer on a busy machine is not a lost server.
  const PING_EVERY_MS = 1000;
  const CHECK_EVERY_MS = 500;
  const LOST_AFTER_MS = 3000;
  let pingTimer = null;
  let waitingSince = 0; // when the oldest unanswered OPTIONS went out; 0: none
  let pingedAt = 0;
  let creds = null; // {ext, password} for logging in again after a silent loss
  // A call whose inbound packets stop growing for this long (not on hold)
  // has lost its media: the stats tick (1 s) notices within 3.5 s.
  const MEDIA_LOST_AFTER_MS = 2500;
  let mediaPackets = 0; // inbound packets at the last growth
  let mediaGrewAt = 0;
  const meterBuf = new Float32Array(2048);
  let mwiSub = null; // the message-summary subscription to our own extension (RFC 3842)
  let voicemailNew = 0;
  let voicemailNotified = false; // a NOTIFY has arrived for the current subscription

  function status(text) {
    lastStatus = text;
    $("status").textContent = text;
  }
  function error(text) {
    $("error").textContent = text;
    $("error").classList.toggle("empty", !text); // the box keeps its space: nothing below it moves
  }
  function show(ids, on) {
    for (const id of ids) $(id).hidden = !on;
  }
  function ctx() {
    if (!audioCtx) {
      audioCtx = new AudioContext();
      heard = audioCtx.createAnalyser();
      heard.fftSize = 8192;
      mic = audioCtx.createAnalyser();
      mic.fftSize = 2048;
      tones = window.tones.createTones(audioCtx, heard);
    }
    return audioCtx;
  }

  // meterMic feeds the microphone meter from the stream we send.
  function meterMic(stream) {
    ctx().createMediaStreamSource(stream).connect(mic);
  }

  // The media we send: the microphone, or a test tone; and the camera
  // when its box is ticked (shown in the preview).
  async function localStream() {
    const stream = await localAudio();
    if (!$("camera").checked) return stream;
    try {
      const cam = await navigator.mediaDevices.getUserMedia({ audio: false, video: true });
      for (const t of cam.getVideoTracks()) stream.addTrack(t);
      $("preview").srcObject = cam;
      show(["preview"], true);
    } catch (e) {
      error("Camera unavailable (" + e.message + "): calling with audio only.");
    }
    return stream;
  }

  // The audio we send: the microphone, or a test tone.
  async function localAudio() {
    if (toneHz > 0) {
      const c = ctx();
      await c.resume();
      return window.tones.toneStream(c, toneHz).stream;
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

  // login registers ext. authUser, when given, is the digest username:
  // ephemeral credentials a web app minted ("EXPIRY:EXT", see the README).
  function login(ext, password, authUser) {
    error("");
    creds = { ext, password, authUser };
    startKeepalive();
    if (ua) {
      const old = ua;
      ua = null;
      old.stop();
    }
    const socket = new JsSIP.WebSocketInterface(wsURL);
    const config = {
      sockets: [socket],
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 8,
      uri: "sip:" + ext + "@" + location.hostname,
      password: password,
      register: true,
      session_timers: true,
    };
    if (authUser) config.authorization_user = authUser;
    ua = new JsSIP.UA(config);
    ua.on("connecting", () => {
      if (!$("error").textContent) status("Connecting to " + wsURL + "…"); // a loss stays in view while reconnecting
    });
    ua.on("connected", () => {
      everConnected = true;
      waitingSince = 0;
    });
    const u = ua;
    ua.on("disconnected", () => {
      if (u !== ua) return; // logged out or logged in again
      if (mwiSub) mwiSub.stale = true; // the server's NOTIFYs went to the lost socket: subscribe again once registered
      if (session) lose();
      else status("Not connected.");
      if (everConnected) error(words.failed({ cause: "Connection Error" }) + " Reconnecting…");
      // Never connected from a page this origin served: the WebSocket itself is refused.
      else error("Cannot reach the server's WebSocket. If the browser warned about the certificate, open " +
        site.wsOrigin + " and accept it, then log in again.");
    });
    ua.on("registered", () => {
      error("");
      status("Registered as " + ext + ".");
      $("who").textContent = "Extension " + ext;
      const fromLogin = $("login").contains(document.activeElement) || document.activeElement === document.body;
      show(["login"], false);
      show(["phone"], true);
      if (fromLogin) $("number").focus(); // keyboard users go on where the form was
      subscribeVoicemail(ext);
    });
    ua.on("registrationFailed", (e) => {
      error(words.login({ code: e.response && e.response.status_code, cause: e.cause }));
      status("Not registered.");
    });
    ua.on("newMessage", (e) => {
      if (e.originator === "remote") chatAdd("in", e.request.from.uri.user, e.request.body || "", "received");
    });
    ua.on("newRTCSession", (e) => {
      // The call's id, for the operator (`softswitch call show ID`).
      if (e.request && e.request.call_id && !session) {
        lastCallID = e.request.call_id;
        $("callidtext").textContent = "Last call id (give this to your administrator): " + lastCallID;
        $("copyid").textContent = "Copy";
        $("callid").hidden = false;
      }
      adopt(e.session, e.originator === "remote");
    });
    ua.start();
  }

  // newVoicemails reads "Voice-Message: new/old" (RFC 3842) from a
  // message-summary body; without that line, Messages-Waiting: yes counts 1.
  function newVoicemails(body) {
    const m = /^Voice-Message:\s*(\d+)\s*\/\s*\d+/im.exec(body || "");
    if (m) return parseInt(m[1], 10);
    return /^Messages-Waiting:\s*yes/im.test(body || "") ? 1 : 0;
  }
  function showVoicemail(n) {
    voicemailNew = n;
    $("voicemail").textContent = n + " new voicemail";
    $("voicemail").hidden = n === 0;
  }
  // subscribeVoicemail asks the server for our mailbox's state; every
  // NOTIFY updates the count. A registration refresh keeps the one we have;
  // after a lost WebSocket the next registration subscribes anew.
  function subscribeVoicemail(ext) {
    if (mwiSub && mwiSub.ua === ua && !mwiSub.stale) return;
    if (mwiSub) mwiSub.sub.terminate();
    const target = "sip:" + ext + "@" + location.hostname;
    const sub = ua.subscribe(target, "message-summary", "application/simple-message-summary", {
      expires: 3600,
      contentType: "application/simple-message-summary",
    });
    sub.on("notify", (isFinal, request, body) => {
      voicemailNotified = true;
      showVoicemail(newVoicemails(body));
    });
    sub.on("terminated", () => {
      if (mwiSub && mwiSub.sub !== sub) return; // replaced, or logged out
      mwiSub = null;
      showVoicemail(0);
    });
    mwiSub = { ua, sub };
    voicemailNotified = false;
    showVoicemail(0); // nothing stale from an earlier login until the first NOTIFY
    sub.subscribe();
  }

  function adopt(s, incoming) {
    if (session) {
      if (incoming) s.terminate({ status_code: 486, reason_phrase: "Busy Here" });
      return;
    }
    session = s;
    s.on("peerconnection", (e) => watchTracks(e.peerconnection));
    if (s.connection) watchTracks(s.connection);
    incomingCall = incoming;
    answeredAt = 0;
    if (incoming) number = s.remote_identity.uri.user;
    ctx();
    s.on("progress", (e) => {
      if (incoming) return;
      status("Ringing " + number + "…");
      // Early media (183 with SDP) carries the far end's own ringback or announcement.
      const early = e.response && e.response.status_code === 183 && e.response.body;
      if (early) tones.stop();
      else if (!tones.playing()) tones.ringback();
    });
    s.on("accepted", () => {
      tones.stop();
      answeredAt = Date.now();
      show(["incoming"], false);
      show(["hold", "xfer", "timer"], true);
      status("In call with " + number + ".");
    });
    s.on("confirmed", () => {
      status("In call with " + number + ".");
      startStats();
    });
    s.on("ended", (e) => finished(words.ended({ cause: e.cause, originator: e.originator, number }), "answered"));
    s.on("failed", (e) => {
      const code = e.message && e.message.status_code;
      finished(words.failed({ code, cause: e.cause, originator: e.originator, number, incoming }), incoming ? "missed" : "failed");
    });
    const focused = document.activeElement;
    show(["call", "testcall"], false);
    show(["hangup", "mute"], !incoming);
    show(["answer", "reject"], incoming);
    // Dialling moves on to Hang up; a call coming in takes the focus only from nothing (never mid-typing).
    keepFocus(focused, incoming ? [] : ["number", "call", "testcall"], incoming ? "answer" : "hangup");
    $("digits").textContent = "";
    startMeters();
    if (incoming) {
      status("Incoming call from " + number + ".");
      $("incoming").textContent = "Incoming call from " + number;
      show(["incoming"], true);
      tones.ringtone();
    }
  }

  function startKeepalive() {
    clearInterval(pingTimer);
    waitingSince = 0;
    pingTimer = setInterval(() => {
      if (!ua || !ua.isConnected()) {
        waitingSince = 0; // JsSIP is reconnecting by itself
        return;
      }
      const now = Date.now();
      if (waitingSince && now - waitingSince > LOST_AFTER_MS) return silentLoss();
      if (now - pingedAt < PING_EVERY_MS) return;
      pingedAt = now;
      if (!waitingSince) waitingSince = now;
      const u = ua;
      const answered = () => u === ua && (waitingSince = 0);
      u.sendOptions("sip:" + location.hostname, null, {
        // any response means the server is there
        eventHandlers: { succeeded: answered, failed: (e) => e.originator === "remote" && answered() },
      });
    }, CHECK_EVERY_MS);
  }

  // silentLoss: the socket is open but the server stopped answering. The
  // call is lost; a fresh UA reconnects (with JsSIP's backoff) until the
  // server answers again.
  function silentLoss() {
    if (session) lose();
    else status("Not connected.");
    const said = lastStatus;
    login(creds.ext, creds.password, creds.authUser);
    status(said);
    error(words.failed({ cause: "Connection Error" }) + " Reconnecting…");
  }

  // lose ends a call whose signalling connection is gone.
  function lose() {
    const s = session;
    finished(words.ended({ cause: "Connection Error" }), "lost");
    try {
      s.terminate();
    } catch (e) {
      // the transport is down: nothing more to tell the server
    }
  }

  function finished(text, outcome) {
    if (!session) return;
    status(text);
    const seconds = answeredAt ? Math.round((Date.now() - answeredAt) / 1000) : 0;
    const list = window.recent.add(localStorage, { number, direction: incomingCall ? "in" : "out",
      outcome: outcome === "answered" ? timerText(seconds) : outcome, at: Date.now(), seconds });
    window.recent.render($("recent"), list, (n) => ($("number").value = n));
    session = null;
    answeredAt = 0;
    tones.stop();
    clearInterval(statsTimer);
    statsTimer = null;
    clearInterval(meterTimer);
    meterTimer = null;
    const focused = document.activeElement;
    show(["call", "testcall"], true);
    show(["hangup", "mute", "answer", "reject", "hold", "xfer", "incoming", "timer"], false);
    keepFocus(focused, ["hangup", "mute", "answer", "reject", "hold", "xfer"], "number");
    $("mute").textContent = "Mute";
    $("mute").setAttribute("aria-pressed", "false");
    $("hold").textContent = "Hold";
    $("hold").disabled = false;
    $("level").value = 0;
    $("mic").value = 0;
    stopVideo();
  }

  // camera turns the camera of the call on or off (the track stays
  // negotiated: black frames while off); before a call, the box decides
  // whether the next call offers video.
  function camera(on) {
    const cam = $("preview").srcObject;
    if (cam) for (const t of cam.getVideoTracks()) t.enabled = on;
  }

  // stopVideo releases the camera and hides both videos after a call.
  function stopVideo() {
    const cam = $("preview").srcObject;
    if (cam) for (const t of cam.getTracks()) t.stop();
    $("preview").srcObject = null;
    $("remotevideo").srcObject = null;
    show(["preview", "remotevideo"], false);
  }

  // keepFocus moves the keyboard focus to id when it was on nothing or on
  // one of the controls a call's state change just hid (or made pointless),
  // so keyboard and screen-reader users stay where the action is.
  function keepFocus(focused, from, id) {
    if (focused === document.body || !focused || from.includes(focused.id)) $(id).focus();
  }

  function timerText(seconds) {
    return Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
  }

  // startMeters runs the two meters and the call timer while a call exists.
  function startMeters() {
    clearInterval(meterTimer);
    meterTimer = setInterval(() => {
      $("mic").value = window.tones.meterLevel(mic, meterBuf);
      $("level").value = window.tones.meterLevel(heard, meterBuf);
      if (answeredAt) $("timer").textContent = timerText(Math.floor((Date.now() - answeredAt) / 1000));
    }, 200);
  }

  function watchTracks(pc) {
    pc.addEventListener("track", (e) => {
      const stream = e.streams[0] || new MediaStream([e.track]);
      if (e.track.kind === "video") {
        $("remotevideo").srcObject = new MediaStream([e.track]);
        show(["remotevideo"], true);
        return;
      }
      $("remote").srcObject = stream;
      const c = ctx();
      c.createMediaStreamSource(stream).connect(heard);
      c.resume();
    });
  }

  async function call(target) {
    error("");
    if (!ua || !ua.isRegistered()) return error("Log in first.");
    if (!target) return error("Enter a number to call.");
    try {
      const stream = await localStream();
      number = target;
      ua.call(target, { mediaStream: stream, pcConfig: { iceServers: [] } });
      meterMic(stream);
    } catch (e) {
      error(e.message);
    }
  }

  async function answer() {
    if (!session) return;
    try {
      const stream = await localStream();
      tones.stop();
      session.answer({ mediaStream: stream, pcConfig: { iceServers: [] } });
      meterMic(stream);
      const focused = document.activeElement;
      show(["answer", "reject"], false);
      show(["hangup", "mute"], true);
      keepFocus(focused, ["answer", "reject"], "hangup");
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
    $("digits").textContent += digit;
    for (const b of $("pad").children) {
      if (b.textContent !== digit) continue;
      b.classList.add("sent");
      setTimeout(() => b.classList.remove("sent"), 250);
    }
  }

  // analysis measures what we hear: dominant frequency and level.
  function analysis() {
    return window.tones.analyse(heard);
  }

  async function stats() {
    if (!session || !session.connection) return null;
    return window.rtcstats.read(session.connection);
  }

  // mediaStopped tells whether the far end's packets stopped growing for
  // MEDIA_LOST_AFTER_MS while the call is not on hold (either side).
  function mediaStopped(s) {
    const now = Date.now();
    const hold = session.isOnHold();
    if (s.packetsReceived > mediaPackets || hold.local || hold.remote) {
      mediaPackets = Math.max(mediaPackets, s.packetsReceived);
      mediaGrewAt = now;
      return false;
    }
    return mediaPackets > 0 && now - mediaGrewAt > MEDIA_LOST_AFTER_MS;
  }

  // mediaLost ends a call whose audio stopped while signalling still works:
  // the server gets a BYE.
  function mediaLost() {
    const s = session;
    finished(words.ended({ cause: "RTP Timeout" }), "lost");
    try {
      s.terminate();
    } catch (e) {
      // already ending
    }
  }

  function startStats() {
    clearInterval(statsTimer);
    mediaPackets = 0;
    mediaGrewAt = Date.now();
    statsTimer = setInterval(async () => {
      const s = await stats();
      if (!s || !session) return;
      // Media and signalling both silent: the server is gone, which the keep-alive words.
      const signallingSilent = waitingSince && Date.now() - waitingSince > 500;
      if (mediaStopped(s) && !signallingSilent) return mediaLost();
      const rtt = s.rtt === null ? "" : ", round trip " + Math.round(s.rtt * 1000) + " ms";
      status("In call with " + number + ": " + (s.codec || "?").replace("audio/", "") + ", " + s.packetsReceived +
        " packets, " + s.packetsLost + " lost" + rtt + ".");
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
  $("number").addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    if (!session) call($("number").value.trim());
  });
  $("hold").addEventListener("click", () => {
    if (!session) return;
    const held = session.isOnHold().local;
    const done = () => {
      // the re-INVITE was answered: the button tells the new state
      $("hold").disabled = false;
      $("hold").setAttribute("aria-pressed", String(!held));
      $("hold").textContent = held ? "Hold" : "Resume";
    };
    $("hold").disabled = true; // one re-INVITE at a time
    const sent = held ? session.unhold({}, done) : session.hold({}, done);
    if (!sent) $("hold").disabled = false;
  });
  $("xfer").addEventListener("click", () => {
    const target = $("number").value.trim();
    if (!session) return;
    if (!target) return error("Type the number to transfer to, then press Transfer.");
    error("");
    session.refer(target);
    status("Transferring " + number + " to " + target + "…");
  });
  $("copyid").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(lastCallID);
      $("copyid").textContent = "Copied";
    } catch (e) {
      getSelection().selectAllChildren($("callidtext")); // copy by hand
    }
  });
  $("testcall").addEventListener("click", () => call("07010002000"));
  $("answer").addEventListener("click", answer);
  $("reject").addEventListener("click", () => session && session.terminate({ status_code: 603 }));
  $("hangup").addEventListener("click", hangup);
  $("logout").addEventListener("click", () => {
    const u = ua;
    ua = null;
    clearInterval(pingTimer);
    if (mwiSub) mwiSub.sub.terminate(); // un-SUBSCRIBE before the socket closes
    mwiSub = null;
    if (u) u.stop();
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
  $("camera").addEventListener("change", (e) => camera(e.target.checked));

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
  window.recent.render($("recent"), window.recent.load(localStorage), (n) => ($("number").value = n));

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
    // video: the call's video figures (rtcstats.video), null without a call.
    // sdp: the call's local and remote SDP, as the browser holds them.
    sdp: () => {
      const pc = session && session.connection;
      return { local: pc && pc.localDescription ? pc.localDescription.sdp : "", remote: pc && pc.remoteDescription ? pc.remoteDescription.sdp : "" };
    },
    video: async () => (session && session.connection ? window.rtcstats.video(session.connection) : null),
    setCamera: (on) => {
      $("camera").checked = !!on;
      camera(!!on);
    },
    // levels: the two meters, 0..1: what we send and what we hear.
    levels: () => ({ mic: window.tones.meterLevel(mic, meterBuf), far: window.tones.meterLevel(heard, meterBuf) }),
    mute: (on) => session && (on ? session.mute({ audio: true }) : session.unmute({ audio: true })),
    ringing: () => !$("incoming").hidden,
    ringtone: () => !!tones && tones.playing(),
    digits: () => $("digits").textContent,
    timer: () => ($("timer").hidden ? "" : $("timer").textContent),
    recent: () => window.recent.load(localStorage),
    pressEnter: (n) => {
      $("number").value = n;
      $("number").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    },
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
    voicemailCount: () => voicemailNew,
    voicemailSubscribed: () => voicemailNotified,
    voicemailText: () => ($("voicemail").hidden ? "" : $("voicemail").textContent),
  };
})();
