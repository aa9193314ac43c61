package mixer

// limitKnee is where the soft limiter starts to bend: below it samples
// pass unchanged, above it they approach full scale without reaching it.
const limitKnee = 24576 // -2.5 dBFS

// limit maps a mixed sample to int16 with a soft knee: the identity up
// to limitKnee, then a curve k + e*h/(e+h) (e the excess, h the headroom)
// that is continuous with slope 1 at the knee and never clips.
func limit(v int32) int16 {
	const h = 32767 - limitKnee
	neg := v < 0
	if neg {
		v = -v
	}
	if v > limitKnee {
		e := int64(v - limitKnee)
		v = limitKnee + int32(e*h/(e+h))
	}
	if neg {
		return int16(-v)
	}
	return int16(v)
}
