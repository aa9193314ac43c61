package g711

// Reference G.711 companders, transcribed statement by statement from the
// ITU-T G.191 software tool library (g711.c: ulaw_compress, ulaw_expand,
// alaw_compress, alaw_expand). They are deliberately naive: they generate
// the golden files in testdata/ and pin the table-driven implementation.

func refULawCompress(lin int16) byte {
	var absno int32
	if lin < 0 {
		absno = int32(^lin)>>2 + 33
	} else {
		absno = int32(lin)>>2 + 33
	}
	if absno > 0x1FFF {
		absno = 0x1FFF
	}
	i := absno >> 6
	segno := int32(1)
	for i != 0 {
		segno++
		i >>= 1
	}
	high := int32(0x0008) - segno
	low := (absno >> segno) & 0x000F
	low = 0x000F - low
	out := high<<4 | low
	if lin >= 0 {
		out |= 0x0080
	}
	return byte(out)
}

func refULawExpand(code byte) int16 {
	sign := int32(1)
	if code < 0x80 {
		sign = -1
	}
	mantissa := ^int32(code)
	exponent := (mantissa >> 4) & 0x0007
	segment := exponent + 1
	mantissa &= 0x000F
	step := int32(4) << segment
	return int16(sign * ((0x0080 << exponent) + step*mantissa + step/2 - 4*33))
}

func refALawCompress(lin int16) byte {
	var ix int32
	if lin < 0 {
		ix = int32(^lin) >> 4
	} else {
		ix = int32(lin) >> 4
	}
	if ix > 15 {
		iexp := int32(1)
		for ix > 16+15 {
			ix >>= 1
			iexp++
		}
		ix -= 16
		ix += iexp << 4
	}
	if lin >= 0 {
		ix |= 0x0080
	}
	return byte(ix ^ 0x0055)
}

func refALawExpand(code byte) int16 {
	ix := int32(code) ^ 0x0055
	ix &= 0x007F
	iexp := ix >> 4
	mant := ix & 0x000F
	if iexp > 0 {
		mant += 16
	}
	mant = mant<<4 + 0x0008
	if iexp > 1 {
		mant <<= iexp - 1
	}
	if code > 127 {
		return int16(mant)
	}
	return int16(-mant)
}
