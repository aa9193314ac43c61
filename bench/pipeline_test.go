package bench

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/sounds"
)

// The per-frame path of a transcoded browser <-> desk-phone call, built
// from the same pieces the endpoints use (pion/rtp, pion/srtp as pion/webrtc
// runs it, our G.711 and Opus), without sockets: what one 20 ms frame costs
// in CPU, both directions, and whether it allocates.

const frameMs = 20

// speech8k returns the embedded test audio reduced to 8 kHz, cut in
// 160-sample frames (speech drives Opus down its real paths; a tone would not).
func speech8k(tb testing.TB) [][]int16 {
	tb.Helper()
	p, err := sounds.Load("test-audio")
	if err != nil {
		tb.Fatal(err)
	}
	step := p.Rate / 8000
	n := min(len(p.PCM)/step, 8000*5) / 160 * 160
	pcm := make([]int16, n)
	for i := range pcm {
		var sum int
		for _, v := range p.PCM[i*step : (i+1)*step] {
			sum += int(v)
		}
		pcm[i] = int16(sum / step)
	}
	var out [][]int16
	for i := 0; i+160 <= len(pcm); i += 160 {
		out = append(out, pcm[i:i+160])
	}
	return out
}

// srtpPair returns an encrypting and a decrypting context sharing keys,
// with the profile browsers negotiate first (AES-128-CM, HMAC-SHA1-80).
func srtpPair(tb testing.TB) (*srtp.Context, *srtp.Context) {
	tb.Helper()
	key := make([]byte, 16)
	salt := make([]byte, 14)
	for i := range key {
		key[i] = byte(i + 1)
	}
	for i := range salt {
		salt[i] = byte(0xa0 + i)
	}
	enc, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		tb.Fatal(err)
	}
	dec, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		tb.Fatal(err)
	}
	return enc, dec
}

// BenchmarkSRTPProtect encrypts one RTP packet with an Opus-sized payload.
func BenchmarkSRTPProtect(b *testing.B) {
	enc, _ := srtpPair(b)
	h := rtp.Header{Version: 2, PayloadType: 111, SSRC: 0x1234}
	payload := make([]byte, 60)
	plain := make([]byte, 0, 1500)
	out := make([]byte, 0, 1500)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.SequenceNumber = uint16(i)
		h.Timestamp = uint32(i) * 960
		var err error
		plain, err = marshal(plain, &h, payload)
		if err != nil {
			b.Fatal(err)
		}
		if out, err = enc.EncryptRTP(out[:0], plain, &h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSRTPUnprotect decrypts one SRTP packet (Opus-sized payload).
func BenchmarkSRTPUnprotect(b *testing.B) {
	enc, dec := srtpPair(b)
	const n = 4096
	pkts := make([][]byte, n)
	h := rtp.Header{Version: 2, PayloadType: 111, SSRC: 0x1234}
	for i := range pkts {
		h.SequenceNumber = uint16(i)
		plain, err := marshal(nil, &h, make([]byte, 60))
		if err != nil {
			b.Fatal(err)
		}
		if pkts[i], err = enc.EncryptRTP(nil, plain, &h); err != nil {
			b.Fatal(err)
		}
	}
	out := make([]byte, 0, 1500)
	var hdr rtp.Header
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i > 0 && i%n == 0 {
			b.StopTimer() // the replay window refuses a packet seen before
			_, dec = srtpPair(b)
			b.StartTimer()
		}
		var err error
		if out, err = dec.DecryptRTP(out[:0], pkts[i%n], &hdr); err != nil {
			b.Fatal(err)
		}
	}
}

// marshal writes header and payload into buf (reused, no allocation once
// it is large enough).
func marshal(buf []byte, h *rtp.Header, payload []byte) ([]byte, error) {
	size := h.MarshalSize() + len(payload)
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	n, err := h.MarshalTo(buf)
	if err != nil {
		return nil, err
	}
	copy(buf[n:], payload)
	return buf, nil
}

// BenchmarkTranscodeCallFrame is one 20 ms frame of a transcoded call, both
// directions, from packet in to packet out:
//
//	phone -> browser: RTP parse -> PCMU decode -> Opus encode (8 kHz, c5, FEC) -> RTP -> SRTP protect
//	browser -> phone: SRTP unprotect -> RTP parse -> Opus decode (8 kHz) -> PCMU encode -> RTP
func BenchmarkTranscodeCallFrame(b *testing.B) {
	frames := speech8k(b)
	// What the phone sends: PCMU packets of the speech.
	phonePkts := make([][]byte, len(frames))
	h := rtp.Header{Version: 2, PayloadType: 0, SSRC: 0x1}
	for i, f := range frames {
		ulaw := make([]byte, 160)
		g711.EncodeULaw(ulaw, f)
		h.SequenceNumber, h.Timestamp = uint16(i), uint32(i*160)
		p, err := marshal(nil, &h, ulaw)
		if err != nil {
			b.Fatal(err)
		}
		phonePkts[i] = p
	}
	// What the browser sends: SRTP Opus packets of the same speech.
	browserEnc, err := opus.NewEncoder(opus.Config{Rate: 8000, FEC: true})
	if err != nil {
		b.Fatal(err)
	}
	browserSRTP, ourSRTPIn := srtpPair(b)
	ourSRTPOut, _ := srtpPair(b)
	browserPkts := make([][]byte, len(frames))
	hb := rtp.Header{Version: 2, PayloadType: 111, SSRC: 0x2}
	opusBuf := make([]byte, 1500)
	for i, f := range frames {
		n, err := browserEnc.Encode(opusBuf, f)
		if err != nil {
			b.Fatal(err)
		}
		hb.SequenceNumber, hb.Timestamp = uint16(i), uint32(i*960)
		plain, err := marshal(nil, &hb, opusBuf[:n])
		if err != nil {
			b.Fatal(err)
		}
		if browserPkts[i], err = browserSRTP.EncryptRTP(nil, plain, &hb); err != nil {
			b.Fatal(err)
		}
	}

	toBrowserEnc, err := opus.NewEncoder(opus.Config{Rate: 8000, FEC: true})
	if err != nil {
		b.Fatal(err)
	}
	fromBrowserDec, err := opus.NewDecoder(opus.Config{Rate: 8000})
	if err != nil {
		b.Fatal(err)
	}
	var (
		in       rtp.Packet
		hdr      rtp.Header
		pcm      = make([]int16, 160)
		pcm2     = make([]int16, 160)
		ulaw     = make([]byte, 160)
		payload  = make([]byte, 1500)
		plainOut = make([]byte, 0, 1500)
		srtpOut  = make([]byte, 0, 1500)
		decBuf   = make([]byte, 0, 1500)
		rtpOut   = make([]byte, 0, 1500)
		outH     = rtp.Header{Version: 2, PayloadType: 111, SSRC: 0x3}
		phoneH   = rtp.Header{Version: 2, PayloadType: 0, SSRC: 0x4}
	)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % len(frames)
		if i > 0 && k == 0 {
			b.StopTimer() // the packets repeat: a fresh replay window
			_, ourSRTPIn = srtpPair(b)
			b.StartTimer()
		}
		// phone -> browser
		if err := in.Unmarshal(phonePkts[k]); err != nil {
			b.Fatal(err)
		}
		g711.DecodeULaw(pcm, in.Payload)
		n, err := toBrowserEnc.Encode(payload, pcm)
		if err != nil {
			b.Fatal(err)
		}
		outH.SequenceNumber, outH.Timestamp = uint16(i), uint32(i*960)
		if plainOut, err = marshal(plainOut, &outH, payload[:n]); err != nil {
			b.Fatal(err)
		}
		if srtpOut, err = ourSRTPOut.EncryptRTP(srtpOut[:0], plainOut, &outH); err != nil {
			b.Fatal(err)
		}
		// browser -> phone
		if decBuf, err = ourSRTPIn.DecryptRTP(decBuf[:0], browserPkts[k], &hdr); err != nil {
			b.Fatal(err)
		}
		if err := in.Unmarshal(decBuf); err != nil {
			b.Fatal(err)
		}
		if _, err := fromBrowserDec.Decode(pcm2, in.Payload); err != nil {
			b.Fatal(err)
		}
		g711.EncodeULaw(ulaw, pcm2)
		phoneH.SequenceNumber, phoneH.Timestamp = uint16(i), uint32(i*160)
		if rtpOut, err = marshal(rtpOut, &phoneH, ulaw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call-frame")
	b.ReportMetric(2*frameMs*1000/(float64(b.Elapsed().Microseconds())/float64(b.N)), "calls-on-2-cores")
}
