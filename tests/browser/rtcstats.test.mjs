// Unit tests of the server media address the self-test names
// (web/static/rtcstats.js), run with `node --test` by TestWebPhoneWords.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const { mediaAddress } = createRequire(import.meta.url)("../../web/static/rtcstats.js");

test("the first UDP candidate names the media address", () => {
  const sdp = "v=0\r\nc=IN IP4 198.51.100.1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
    "a=candidate:1 1 tcp 1 203.0.113.9 9 typ host tcptype passive\r\n" +
    "a=candidate:2 1 UDP 2130706431 127.0.0.77 12345 typ host\r\n" +
    "a=candidate:3 1 udp 1 127.0.0.78 1 typ host\r\n";
  assert.deepEqual(mediaAddress(sdp), { ip: "127.0.0.77", port: "12345" });
});

test("without candidates, the c= and m= lines; missing parts are '?'", () => {
  assert.deepEqual(mediaAddress("v=0\nc=IN IP6 ::1\nm=audio 8443 RTP/AVP 0\n"), { ip: "::1", port: "8443" });
  assert.deepEqual(mediaAddress("m=audio 4000 RTP/AVP 0\r\n"), { ip: "?", port: "4000" });
  for (const bad of [undefined, null, "", 42, "garbage\x00\n a=candidate:x", {}]) {
    assert.deepEqual(mediaAddress(bad), { ip: "?", port: "?" });
  }
});
