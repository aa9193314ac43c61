package opus

// downmix averages the interleaved stereo pairs of lr into dst and
// returns the number of mono samples, len(lr)/2. dst must hold them.
func downmix(dst, lr []int16) int {
	n := len(lr) / 2
	dst = dst[:n]
	for i := range dst {
		dst[i] = int16((int32(lr[2*i]) + int32(lr[2*i+1])) >> 1)
	}
	return n
}
