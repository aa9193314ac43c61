// Unit tests of the web phone's failure sentences (web/static/words.js),
// run with `node --test` by TestWebPhoneWords.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const words = createRequire(import.meta.url)("../../web/static/words.js");

test("the failures the issue names read as sentences", () => {
  assert.equal(words.failed({ code: 486, cause: "Busy", originator: "remote", number: "1002" }), "1002 is busy.");
  assert.equal(words.failed({ code: 404, cause: "Not Found", originator: "remote", number: "1999" }), "1999 does not exist.");
  assert.equal(words.failed({ code: 480, cause: "Unavailable", originator: "remote", number: "1003" }), "1003 is not available right now.");
  assert.equal(words.failed({ code: 503, cause: "SIP Failure Code", originator: "remote", number: "1002" }),
    "The server is overloaded, try again in a moment.");
  assert.equal(words.failed({ cause: "Connection Error", originator: "system", number: "1002" }), "You were disconnected from the server.");
});

test("every status code and cause has its own sentence, never library jargon", () => {
  for (const [code, text] of Object.entries(words.byCode)) {
    const s = words.failed({ code: Number(code), cause: "SIP Failure Code", originator: "remote", number: "1234" });
    assert.equal(s, text.split("{n}").join("1234"), "code " + code);
    assert.doesNotMatch(s, /SIP Failure Code|Terminated|Canceled/);
    assert.match(s, /^[A-Z0-9].*\.$/, "code " + code + " is a sentence");
  }
  for (const cause of Object.keys(words.byCause)) {
    const s = words.failed({ cause, originator: "system", number: "1234" });
    assert.notEqual(s, cause, cause + " is reworded");
    assert.match(s, /\.$/);
  }
});

test("unknown codes still say what happened, with the code for support", () => {
  assert.equal(words.failed({ code: 599, originator: "remote", number: "1" }), "The server could not place the call (599): try again.");
  assert.equal(words.failed({ code: 499, originator: "remote", number: "1" }), "The call to 1 failed (499).");
  assert.equal(words.failed({}), "The call failed.");
  assert.equal(words.failed({ code: 404 }), "The number does not exist.");
});

test("the caller's own cancel and the callee's missed call", () => {
  assert.equal(words.failed({ code: 487, cause: "Canceled", originator: "local", number: "1002" }), "Call cancelled.");
  assert.equal(words.failed({ cause: "Canceled", originator: "remote", number: "1001", incoming: true }), "Missed call from 1001.");
  assert.equal(words.failed({ cause: "Rejected", originator: "local", number: "1001", incoming: true }), "Call from 1001 rejected.");
});

test("ended calls", () => {
  assert.equal(words.ended({ cause: "Terminated", originator: "remote", number: "1002" }), "1002 hung up.");
  assert.equal(words.ended({ cause: "Terminated", originator: "local", number: "1002" }), "Call ended.");
  assert.equal(words.ended({ cause: "Connection Error", originator: "system" }), "Call lost: you were disconnected from the server.");
  assert.equal(words.ended({ cause: "RTP Timeout", originator: "system" }), "Call lost: the audio stopped.");
});

test("login failures", () => {
  assert.equal(words.login({ code: 401, cause: "Authentication Error" }), "Wrong extension or password.");
  assert.equal(words.login({ code: 403, cause: "Rejected" }), "Wrong extension or password.");
  assert.equal(words.login({ cause: "Authentication Error" }), "Wrong extension or password.");
  assert.equal(words.login({ code: 503, cause: "SIP Failure Code" }), "Too many attempts or the server is busy: wait a little and try again.");
  assert.equal(words.login({ cause: "Request Timeout" }), "The server did not answer: check your connection.");
  assert.equal(words.login({ code: 500, cause: "SIP Failure Code" }), "Login failed (500): try again.");
  assert.equal(words.login({}), "Login failed (no answer): try again.");
});
