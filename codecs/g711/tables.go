package g711

import "math/bits"

// Encoding tables are indexed by the top bits of the 16-bit sample that
// G.711 looks at: 14 bits for µ-law, 12 bits of magnitude plus sign for
// A-law. Decoding tables are indexed by the code. All four are computed
// once at package initialisation and never written afterwards.
var (
	ulawEncTable = buildULawEnc()
	alawEncTable = buildALawEnc()
	ulawDecTable = buildULawDec()
	alawDecTable = buildALawDec()
)

// ulawMaxMagnitude is the largest biased 14-bit magnitude µ-law can code.
const ulawMaxMagnitude = 0x1FFF

// buildULawEnc computes the µ-law code for every 14-bit input i (the
// sample shifted right by two, as an unsigned index).
func buildULawEnc() *[1 << 14]byte {
	var t [1 << 14]byte
	for i := range t {
		v := int32(int16(uint16(i) << 2)) // back to a 16-bit sample with the low bits clear
		sign := byte(0x80)
		if v < 0 {
			v = ^v
			sign = 0
		}
		mag := v>>2 + 33 // 14-bit magnitude plus the µ-law bias (132/4)
		mag = min(mag, ulawMaxMagnitude)
		seg := bits.Len32(uint32(mag)) - 6 // bias puts magnitude at or above 32 (segment 0 starts at bit 5)
		mant := (mag >> (seg + 1)) & 0x0F
		t[i] = ^(byte(seg)<<4|byte(mant))&^0x80 | sign
	}
	return &t
}

// buildALawEnc computes the A-law code for every input i (the sample
// shifted right by four, as an unsigned index).
func buildALawEnc() *[1 << 12]byte {
	var t [1 << 12]byte
	for i := range t {
		v := int32(int16(uint16(i) << 4))
		sign := byte(0x80)
		if v < 0 {
			v = ^v
			sign = 0
		}
		mag := v >> 4 // 0..2047
		var code int32
		if mag < 16 {
			code = mag
		} else {
			seg := int32(bits.Len32(uint32(mag))) - 4 // 1..7
			code = seg<<4 | (mag>>(seg-1))&0x0F
		}
		t[i] = (byte(code) | sign) ^ 0x55
	}
	return &t
}

// buildULawDec computes the 16-bit value of every µ-law code.
func buildULawDec() *[256]int16 {
	var t [256]int16
	for c := range t {
		u := ^byte(c)
		seg := int32(u>>4) & 0x07
		mant := int32(u) & 0x0F
		v := ((mant<<3 + 0x84) << seg) - 0x84
		if u&0x80 != 0 {
			v = -v
		}
		t[c] = int16(v)
	}
	return &t
}

// buildALawDec computes the 16-bit value of every A-law code.
func buildALawDec() *[256]int16 {
	var t [256]int16
	for c := range t {
		a := byte(c) ^ 0x55
		seg := int32(a>>4) & 0x07
		mant := int32(a) & 0x0F
		v := mant<<4 + 8
		if seg > 0 {
			v = (v + 0x100) << (seg - 1)
		}
		if a&0x80 == 0 {
			v = -v
		}
		t[c] = int16(v)
	}
	return &t
}
