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

  const rtcstats = { read, mediaAddress };
  if (typeof module === "object" && module.exports) module.exports = rtcstats;
  else root.rtcstats = rtcstats;
})(typeof window === "object" ? window : globalThis);
