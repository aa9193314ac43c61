// Words for every way a call fails or ends: SIP status codes and JsSIP
// causes to short sentences a person understands. Pure functions, no DOM:
// the page uses them (window.words) and node unit-tests them
// (tests/browser/words.test.mjs).
"use strict";
(function (root) {
  // Final SIP status codes, worded for the caller. {n} is the number dialled.
  const byCode = {
    400: "The server could not understand the call to {n}.",
    401: "The server did not accept your login: log in again.",
    403: "You are not allowed to call {n}.",
    404: "{n} does not exist.",
    407: "The server did not accept your login: log in again.",
    408: "{n} did not answer.",
    410: "{n} is no longer in service.",
    413: "The call was too large for the server.",
    415: "{n} cannot take this kind of call.",
    420: "{n} cannot take this kind of call.",
    480: "{n} is not available right now.",
    481: "That call no longer exists.",
    482: "The call went round in a loop: tell your administrator.",
    483: "The call went round in a loop: tell your administrator.",
    484: "{n} is incomplete: check the number.",
    485: "{n} is ambiguous: check the number.",
    486: "{n} is busy.",
    487: "The call was cancelled.",
    488: "{n} cannot take this kind of call (no common audio format).",
    491: "Both sides changed the call at once: try again.",
    500: "The server hit an error placing the call: tell your administrator.",
    501: "The server does not support this.",
    502: "The server could not reach {n}'s network.",
    503: "The server is overloaded, try again in a moment.",
    504: "The server gave up waiting for {n}'s network.",
    600: "{n} is busy.",
    603: "{n} declined the call.",
    604: "{n} does not exist.",
    606: "{n} cannot take this kind of call (no common audio format).",
  };

  // JsSIP causes that come without a useful status code.
  const byCause = {
    "Connection Error": "You were disconnected from the server.",
    "Request Timeout": "The server did not answer: check your connection.",
    "Busy": "{n} is busy.",
    "Rejected": "{n} declined the call.",
    "Unavailable": "{n} is not available right now.",
    "Not Found": "{n} does not exist.",
    "Address Incomplete": "{n} is incomplete: check the number.",
    "Incompatible SDP": "{n} cannot take this kind of call (no common audio format).",
    "Missing SDP": "{n} answered without audio.",
    "Bad Media Description": "{n} answered without usable audio.",
    "Authentication Error": "The server did not accept your login: log in again.",
    "No Answer": "{n} did not answer.",
    "Expires": "{n} did not answer.",
    "No ACK": "The call could not be confirmed: check your connection.",
    "Dialog Error": "The call got out of step with the server: try again.",
    "WebRTC Error": "Your browser could not set up the audio.",
    "User Denied Media Access": "Microphone blocked: allow microphone access for this site.",
    "RTP Timeout": "Call lost: the audio stopped.",
    "Internal Error": "Something went wrong in this page: reload it.",
    "Redirected": "{n} moved; the call was not forwarded.",
  };

  function fill(text, number) {
    return text.split("{n}").join(number || "The number");
  }

  // failed words why a call did not get through. f: {code, cause,
  // originator ("local"|"remote"|"system"), number, incoming}.
  function failed(f) {
    const n = f.number || "";
    if (f.incoming) {
      if (f.originator === "local") return "Call from " + (n || "unknown") + " rejected.";
      if (f.cause === "Connection Error") return byCause["Connection Error"];
      return "Missed call from " + (n || "unknown") + ".";
    }
    if (f.originator === "local" && (f.cause === "Canceled" || f.code === 487)) return "Call cancelled.";
    if (f.code && byCode[f.code]) return fill(byCode[f.code], n);
    if (f.cause && byCause[f.cause]) return fill(byCause[f.cause], n);
    if (f.code >= 500 && f.code < 600) return "The server could not place the call (" + f.code + "): try again.";
    if (f.code >= 400) return "The call to " + (n || "that number") + " failed (" + f.code + ").";
    return "The call failed.";
  }

  // ended words why an established call ended.
  function ended(e) {
    const n = e.number || "The other side";
    if (e.cause === "Connection Error") return "Call lost: you were disconnected from the server.";
    if (e.cause === "RTP Timeout") return byCause["RTP Timeout"];
    if (e.originator === "local") return "Call ended.";
    if (e.originator === "remote") return n + " hung up.";
    return "Call ended.";
  }

  // login words why a registration failed. f: {code, cause} (JsSIP's
  // registrationFailed: the response's status code, the cause).
  function login(f) {
    if (f.code === 401 || f.code === 403 || f.cause === "Authentication Error" || f.cause === "Rejected") {
      return "Wrong extension or password.";
    }
    if (f.code === 503) return "Too many attempts or the server is busy: wait a little and try again.";
    if (f.cause === "Connection Error") return byCause["Connection Error"];
    if (f.cause === "Request Timeout") return byCause["Request Timeout"];
    return "Login failed (" + (f.code || f.cause || "no answer") + "): try again.";
  }

  const words = { failed, ended, login, byCode, byCause };
  if (typeof module === "object" && module.exports) module.exports = words;
  else root.words = words;
})(typeof window === "object" ? window : globalThis);
