// softswitch self-test (/selftest): checks this browser and network for
// calls, each with a plain verdict, and writes a report to copy.
// window.selftest is the API the buttons use; the browser tests drive it.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  // Where the phone registers (site.js): this origin's /ws, or a proxy's
  // WebSocket in front of several nodes.
  const site = window.softswitchSite;
  const wsURL = site.wsURL;
  const ECHO = "07010002001"; // the softswitch sends back what it receives
  const ECHO_HZ = 1000; // what we send to the echo, and listen for
  const WS_WAIT_MS = 5000;
  const LOGIN_WAIT_MS = 10000;
  const ANSWER_WAIT_MS = 15000;
  const ICE_WAIT_MS = 10000; // from the answer: loopback connects in well under 1 s, real networks in a few
  const ECHO_LISTEN_MS = 5000;
  // Limits for "good for calls".
  const GOOD = { lossPct: 2, jitterMs: 30, rttMs: 300 };
  const NAMES = {
    wss: "Connection to the server",
    mic: "Microphone",
    speaker: "Speaker",
    udp: "Media over UDP",
    echo: "Echo call (" + ECHO + ")",
  };
  const MARK = { ok: "OK", warn: "Warning", fail: "Problem", skip: "Not tested", run: "Testing…", ask: "Your answer needed" };

  let results = {}; // id -> {state, verdict}
  let figures = {}; // measured values for the report
  let ext = "";
  let ranAt = null;
  let running = false;
  let audioCtx = null;
  let tones = null;
  let played = null; // analyser of the speaker test's tone

  function set(id, state, verdict) {
    results[id] = { state, verdict };
    const li = $("check-" + id);
    li.className = state;
    li.querySelector(".state").textContent = MARK[state];
    li.querySelector(".verdict").textContent = verdict;
    summarize();
  }

  function summarize() {
    const ids = Object.keys(NAMES);
    let text;
    if (ids.some((id) => !results[id] || results[id].state === "run")) text = "Testing…";
    else if (ids.some((id) => results[id].state === "ask")) text = "Did you hear the tone? Answer under Speaker.";
    else {
      const bad = ids.filter((id) => results[id].state === "fail" || results[id].state === "warn");
      const skipped = ids.filter((id) => results[id].state === "skip");
      const parts = [];
      if (bad.length) parts.push(bad.length + (bad.length === 1 ? " problem" : " problems") + " found: " + bad.map((id) => NAMES[id]).join(", ") + ".");
      if (skipped.length) parts.push("Not tested: " + skipped.map((id) => NAMES[id]).join(", ") + ".");
      text = parts.length ? parts.join(" ") : "All good: this browser and network are ready for calls.";
    }
    $("summary").textContent = running || ranAt ? text : "Not run yet.";
    $("report").value = report(text);
  }

  function report(summary) {
    if (!ranAt) return "";
    const lines = [
      "softswitch self-test, " + ranAt.toISOString(),
      "Page: " + location.href,
      "Browser: " + navigator.userAgent,
      "Extension: " + ext,
      "Summary: " + summary,
    ];
    for (const id of Object.keys(NAMES)) {
      const r = results[id];
      if (r) lines.push("[" + MARK[r.state] + "] " + NAMES[id] + ": " + r.verdict);
    }
    const f = Object.entries(figures).map(([k, v]) => k + "=" + v);
    if (f.length) lines.push("Figures: " + f.join(", "));
    return lines.join("\n");
  }

  function sleep(ms) {
    return new Promise((r) => setTimeout(r, ms));
  }

  // checkWebSocket opens the secure WebSocket the phone uses: if it opens,
  // the browser accepts the server's certificate.
  function checkWebSocket() {
    set("wss", "run", "Connecting to " + wsURL + "…");
    return new Promise((resolve) => {
      let ws;
      let done = false;
      const finish = (ok, verdict) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        ws.onopen = ws.onclose = ws.onerror = null;
        ws.close();
        set("wss", ok ? "run" : "fail", verdict);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false, "No answer from " + wsURL + " within " + WS_WAIT_MS / 1000 +
        " s: a firewall or proxy on your network may block WebSockets."), WS_WAIT_MS);
      try {
        ws = new WebSocket(wsURL, "sip");
      } catch (e) {
        clearTimeout(timer);
        set("wss", "fail", "This browser cannot open " + wsURL + ": " + e.message);
        return resolve(false);
      }
      ws.onopen = () => finish(true, "Connected to " + wsURL + "; logging in…");
      ws.onerror = ws.onclose = () => finish(false, "Cannot open " + wsURL + ". If the browser warned about the " +
        "certificate, open " + site.wsOrigin + " and accept it; otherwise your network blocks the connection.");
    });
  }

  // login registers ext over the WebSocket; resolves to a started UA or null.
  function login(password) {
    return new Promise((resolve) => {
      const ua = new JsSIP.UA({
        sockets: [new JsSIP.WebSocketInterface(wsURL)],
        uri: "sip:" + ext + "@" + location.hostname,
        password,
        register: true,
        connection_recovery_min_interval: 30, // a self-test reports, it does not retry
      });
      let done = false;
      const finish = (ok, verdict) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        set("wss", ok ? "ok" : "fail", verdict);
        if (!ok) ua.stop();
        resolve(ok ? ua : null);
      };
      const timer = setTimeout(() => finish(false, "Connected, but the server did not answer the login within " +
        LOGIN_WAIT_MS / 1000 + " s."), LOGIN_WAIT_MS);
      const how = wsURL.startsWith("wss:")
        ? "Connected securely to " + wsURL + " (the browser accepts the server's certificate)"
        : "Connected to " + wsURL + " without encryption (open this page over https:// for calls with a microphone)";
      ua.on("registered", () => finish(true, how + " and logged in as " + ext + "."));
      ua.on("registrationFailed", (e) => finish(false, "Connected, but the login failed: " +
        words.login({ code: e.response && e.response.status_code, cause: e.cause })));
      ua.on("disconnected", () => finish(false, "Connected, then the server closed the connection."));
      ua.start();
    });
  }

  // checkMicrophone asks for the microphone and measures its level.
  async function checkMicrophone() {
    set("mic", "run", "Asking for the microphone: allow it, then say something…");
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    } catch (e) {
      if (e.name === "NotAllowedError" || e.name === "SecurityError") {
        return set("mic", "fail", "Microphone blocked: allow microphone access for this site, then run the test again.");
      }
      if (e.name === "NotFoundError") return set("mic", "fail", "No microphone found: plug one in or choose one in the browser.");
      return set("mic", "fail", "The microphone could not be opened: " + e.message);
    }
    const an = audioCtx.createAnalyser();
    an.fftSize = 2048;
    const src = audioCtx.createMediaStreamSource(stream);
    src.connect(an);
    let peak = -Infinity;
    for (let i = 0; i < 10; i++) {
      await sleep(200);
      peak = Math.max(peak, window.tones.analyse(an).dBFS);
    }
    src.disconnect();
    const label = stream.getAudioTracks()[0].label || "default microphone";
    stream.getTracks().forEach((t) => t.stop());
    figures.mic_peak_dBFS = Math.round(peak);
    if (peak < -60) {
      return set("mic", "warn", "Allowed, but " + label + " is silent (peak " + Math.round(peak) +
        " dBFS): check that it is not muted, or choose another one.");
    }
    set("mic", "ok", "Allowed and picking up sound: " + label + ", peak " + Math.round(peak) + " dBFS.");
  }

  // checkSpeaker plays a tone; the user says whether they heard it.
  function checkSpeaker() {
    tones.speakerTest();
    $("ask").hidden = false;
    set("speaker", "ask", "Playing a tone twice: did you hear it?");
    // Keyboard users who started the test from the form land on the question.
    const f = document.activeElement;
    if (!f || f === document.body || $("start").contains(f)) $("heard-yes").focus();
  }
  function speakerAnswer(heard) {
    if (!results.speaker || results.speaker.state !== "ask") return;
    tones.stop();
    $("ask").hidden = true;
    if (heard) set("speaker", "ok", "You heard the test tone.");
    else set("speaker", "fail", "You did not hear the test tone: check the volume, and the output device in the browser and the system.");
  }

  // echoCall calls the echo number with a 1000 Hz tone: ICE reaching the
  // server's media port is the UDP check; the tone coming back, with the
  // call's round trip, loss and jitter, is the echo check.
  async function echoCall(ua) {
    set("udp", "run", "Calling the echo number " + ECHO + "…");
    set("echo", "run", "Waiting for the UDP check…");
    const tone = window.tones.toneStream(audioCtx, ECHO_HZ);
    const heard = audioCtx.createAnalyser();
    heard.fftSize = 8192;
    const session = ua.call(ECHO, { mediaStream: tone.stream, pcConfig: { iceServers: [] } });
    const pc = session.connection;
    pc.addEventListener("track", (e) => {
      const stream = e.streams[0] || new MediaStream([e.track]);
      $("remote").srcObject = stream; // Chromium feeds WebAudio a remote track only once an element plays it
      audioCtx.createMediaStreamSource(stream).connect(heard);
    });
    try {
      const outcome = await callOutcome(session, pc);
      if (outcome.failed) {
        set("udp", "fail", "Not tested: the echo call failed: " + outcome.failed);
        return set("echo", "fail", "The echo call failed: " + outcome.failed);
      }
      const media = window.rtcstats.mediaAddress(pc.remoteDescription && pc.remoteDescription.sdp);
      figures.media = media.ip + ":" + media.port;
      if (!outcome.connected) {
        set("udp", "fail", "UDP " + media.port + " is blocked on your network: calls would connect but stay silent. " +
          "Ask your network administrator to allow UDP to " + media.ip + " port " + media.port + " (the server's media).");
        return set("echo", "skip", "Not tested: it needs UDP media.");
      }
      set("udp", "ok", "UDP media reaches the server (" + media.ip + " port " + media.port + ").");
      await measureEcho(session, pc, heard);
    } finally {
      tone.stop();
      try {
        session.terminate();
      } catch (e) {
        // already ended
      }
    }
  }

  // callOutcome resolves to {connected: true}, {connected: false} (ICE did
  // not reach the media port in time) or {failed: sentence}.
  function callOutcome(session, pc) {
    return new Promise((done) => {
      let settled = false; // ICE may connect before JsSIP reports the answer
      const resolve = (v) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        done(v);
      };
      let timer = setTimeout(() => resolve({ failed: "no answer within " + ANSWER_WAIT_MS / 1000 + " s." }), ANSWER_WAIT_MS);
      const ice = () => {
        if (pc.iceConnectionState === "connected" || pc.iceConnectionState === "completed") resolve({ connected: true });
        if (pc.iceConnectionState === "failed") resolve({ connected: false });
      };
      pc.addEventListener("iceconnectionstatechange", ice);
      session.on("accepted", () => {
        if (settled) return;
        set("udp", "run", "Answered; checking UDP to the server's media port…");
        clearTimeout(timer);
        timer = setTimeout(() => resolve({ connected: false }), ICE_WAIT_MS);
        ice();
      });
      session.on("failed", (e) => resolve({ failed: words.failed({ code: e.message && e.message.status_code, cause: e.cause,
        originator: e.originator, number: ECHO }) }));
      session.on("ended", (e) => resolve({ failed: words.ended({ cause: e.cause, originator: e.originator, number: ECHO }) }));
    });
  }

  // measureEcho listens for our tone coming back and reads the call's figures.
  async function measureEcho(session, pc, heard) {
    set("echo", "run", "Listening for the echo of a " + ECHO_HZ + " Hz tone…");
    await audioCtx.resume();
    let windows = 0;
    let back = 0;
    for (let t = 0; t < ECHO_LISTEN_MS; t += 250) {
      await sleep(250);
      if (!session.isEstablished()) break;
      const a = window.tones.analyse(heard);
      windows++;
      if (a.dBFS > -40 && Math.abs(a.hz - ECHO_HZ) < 20) back++;
    }
    const s = await window.rtcstats.read(pc);
    const total = s.packetsReceived + s.packetsLost;
    const lossPct = total > 0 ? (100 * s.packetsLost) / total : 100;
    const jitterMs = Math.round((s.jitter || 0) * 1000);
    const rttMs = s.rtt === null ? null : Math.round(s.rtt * 1000);
    Object.assign(figures, { codec: s.codec, packets: s.packetsReceived, loss_pct: lossPct.toFixed(1), jitter_ms: jitterMs,
      rtt_ms: rttMs === null ? "unknown" : rttMs, echo_windows: back + "/" + windows });
    const said = "round trip " + (rttMs === null ? "not measured" : rttMs + " ms") + ", loss " + lossPct.toFixed(1) +
      " %, jitter " + jitterMs + " ms";
    if (s.packetsReceived === 0) return set("echo", "fail", "Nothing came back from the echo: you would not hear the other side.");
    if (back < windows / 2) {
      return set("echo", "fail", "Packets came back (" + said + ") but not the tone we sent: audio would be garbled or missing.");
    }
    const issues = [];
    if (lossPct > GOOD.lossPct) issues.push("high loss: expect choppy audio");
    if (jitterMs > GOOD.jitterMs) issues.push("high jitter: expect choppy audio");
    if (rttMs !== null && rttMs > GOOD.rttMs) issues.push("long delay: expect people to talk over each other");
    if (issues.length) return set("echo", "warn", "Your audio comes back, " + said + ": " + issues.join("; ") + ".");
    set("echo", "ok", "Your audio comes back clearly: " + said + ". Good for calls.");
  }

  async function run(extension, password) {
    if (running) return;
    running = true;
    $("run").disabled = true;
    ext = extension;
    ranAt = new Date();
    results = {};
    figures = {};
    for (const id of Object.keys(NAMES)) set(id, "run", "Waiting…");
    if (!audioCtx) {
      audioCtx = new AudioContext();
      played = audioCtx.createAnalyser();
      played.fftSize = 8192;
      tones = window.tones.createTones(audioCtx, played);
    }
    await audioCtx.resume();
    try {
      const wsOK = await checkWebSocket();
      await checkMicrophone();
      checkSpeaker(); // the answer may come while the calls run
      const ua = wsOK ? await login(password) : null;
      if (!ua) {
        const why = wsOK ? "Not tested: it needs the login to work." : "Not tested: it needs the connection to the server.";
        set("udp", "skip", why);
        set("echo", "skip", why);
        return;
      }
      try {
        await echoCall(ua);
      } finally {
        ua.stop();
      }
    } catch (e) {
      for (const id of Object.keys(NAMES)) {
        if (results[id].state === "run") set(id, "fail", "The test stopped: " + e.message);
      }
    } finally {
      running = false;
      $("run").disabled = false;
      summarize();
    }
  }

  $("start").addEventListener("submit", (e) => {
    e.preventDefault();
    run($("ext").value.trim(), $("password").value);
  });
  $("heard-yes").addEventListener("click", () => speakerAnswer(true));
  $("heard-no").addEventListener("click", () => speakerAnswer(false));
  $("replay").addEventListener("click", () => tones && tones.speakerTest());
  $("copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("report").value);
      $("copy").textContent = "Copied";
    } catch (e) {
      $("report").select(); // copy by hand
    }
  });

  window.selftest = {
    run,
    speakerAnswer,
    running: () => running,
    summary: () => $("summary").textContent,
    results: () => Object.keys(NAMES).map((id) => ({ id, state: results[id] ? results[id].state : "", verdict: results[id] ? results[id].verdict : "" })),
    figures: () => Object.assign({}, figures),
    report: () => $("report").value,
    speakerTone: () => window.tones.analyse(played), // what the speaker check plays
  };
})();
