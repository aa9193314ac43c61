// One reading of a call's RTCPeerConnection statistics (getStats), for
// the phone's status line and the self-test's echo figures; and the
// server's media address from its SDP. node unit-tests mediaAddress
// (tests/browser/rtcstats.test.mjs).
"use strict";
(function (root) {
  // read returns {codec, packetsReceived, packetsLost, jitter (s), rtt (s
  // or null), dtls, remote ("ip:port" of the selected ICE pair's far end)}.
  async function read(pc) {
    const report = await pc.getStats();
    const out = { codec: "", packetsReceived: 0, packetsLost: 0, jitter: 0, rtt: null, dtls: "", remote: "" };
    const codecs = {};
    let pairID = "";
    report.forEach((s) => {
      if (s.type === "codec") codecs[s.id] = s.mimeType;
      if (s.type === "transport") {
        out.dtls = s.dtlsState;
        pairID = s.selectedCandidatePairId || "";
      }
    });
    let remoteRTT = null;
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") {
        out.codec = codecs[s.codecId] || out.codec;
        out.packetsReceived = s.packetsReceived;
        out.packetsLost = s.packetsLost;
        out.jitter = s.jitter;
      }
      if (s.type === "remote-inbound-rtp" && s.roundTripTime !== undefined) remoteRTT = s.roundTripTime;
      const selected = pairID ? s.id === pairID : s.nominated;
      if (s.type === "candidate-pair" && selected) {
        if (s.currentRoundTripTime !== undefined) out.rtt = s.currentRoundTripTime;
        const rc = report.get(s.remoteCandidateId);
        if (rc) out.remote = rc.address + ":" + rc.port;
      }
    });
    if (out.rtt === null) out.rtt = remoteRTT;
    return out;
  }

  // video returns the call's video figures: what arrives (codec,
  // framesDecoded, frameWidth/Height, and the keyframe requests and NACKs
  // this side sent: pliSent, firSent, nackSent) and what leaves (sentWidth/
  // Height, framesEncoded, and the requests the sender got: pliReceived,
  // firReceived, nackReceived).
  async function video(pc) {
    const report = await pc.getStats();
    const out = { codec: "", framesDecoded: 0, frameWidth: 0, frameHeight: 0, packetsReceived: 0, packetsLost: 0,
      pliSent: 0, firSent: 0, nackSent: 0, framesEncoded: 0, sentWidth: 0, sentHeight: 0,
      pliReceived: 0, firReceived: 0, nackReceived: 0, sentSSRC: 0 };
    const codecs = {};
    report.forEach((s) => {
      if (s.type === "codec") codecs[s.id] = s.mimeType;
    });
    report.forEach((s) => {
      if (s.kind !== "video") return;
      if (s.type === "inbound-rtp") {
        out.codec = codecs[s.codecId] || out.codec;
        out.framesDecoded += s.framesDecoded || 0;
        out.frameWidth = s.frameWidth || out.frameWidth;
        out.frameHeight = s.frameHeight || out.frameHeight;
        out.packetsReceived += s.packetsReceived || 0;
        out.packetsLost += s.packetsLost || 0;
        out.pliSent += s.pliCount || 0;
        out.firSent += s.firCount || 0;
        out.nackSent += s.nackCount || 0;
      }
      if (s.type === "outbound-rtp") {
        out.framesEncoded += s.framesEncoded || 0;
        out.sentWidth = s.frameWidth || out.sentWidth;
        out.sentHeight = s.frameHeight || out.sentHeight;
        out.sentSSRC = s.ssrc || out.sentSSRC;
        out.pliReceived += s.pliCount || 0;
        out.firReceived += s.firCount || 0;
        out.nackReceived += s.nackCount || 0;
      }
    });
    return out;
  }

  // mediaAddress reads the server's media address from its SDP: the first
  // UDP ICE candidate, else the c= and m=audio lines; "?" for what is missing.
  function mediaAddress(sdp) {
    const text = typeof sdp === "string" ? sdp : "";
    const cand = /^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ/im.exec(text);
    if (cand) return { ip: cand[1], port: cand[2] };
    const c = /^c=IN IP[46] (\S+)/m.exec(text);
    const m = /^m=audio (\d+)/m.exec(text);
    return { ip: c ? c[1] : "?", port: m ? m[1] : "?" };
  }

  const rtcstats = { read, video, mediaAddress };
  if (typeof module === "object" && module.exports) module.exports = rtcstats;
  else root.rtcstats = rtcstats;
})(typeof window === "object" ? window : globalThis);
