package sounds

import "encoding/binary"

// WAVHeaderLen is the length of the header AppendWAVHeader writes: the
// RIFF header, a 16-byte "fmt " chunk and the "data" chunk's header.
const WAVHeaderLen = riffHeaderLen + chunkHeaderLen + fmtMinLen + chunkHeaderLen

// AppendWAVHeader appends the header of a RIFF/WAVE file of 16-bit PCM
// at rate Hz with channels interleaved channels and dataLen bytes of
// samples after it. A recorder writing as it goes appends the header
// with the length so far and rewrites it in place (WriteAt offset 0) as
// the file grows: it is always WAVHeaderLen bytes.
func AppendWAVHeader(b []byte, rate, channels, dataLen int) []byte {
	le := binary.LittleEndian
	block := 2 * channels
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, uint32(WAVHeaderLen-chunkHeaderLen+dataLen))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, fmtMinLen)
	b = le.AppendUint16(b, formatPCM)
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(block*rate)) // byte rate
	b = le.AppendUint16(b, uint16(block))      // block align
	b = le.AppendUint16(b, 16)                 // bits per sample
	b = append(b, "data"...)
	return le.AppendUint32(b, uint32(dataLen))
}

// EncodeWAV returns p as a RIFF/WAVE file: mono, 16-bit PCM at p.Rate.
// Tests use it to hand audio to external tools (sox, baresip's aufile).
func EncodeWAV(p *Prompt) []byte {
	dataLen := 2 * len(p.PCM)
	b := AppendWAVHeader(make([]byte, 0, WAVHeaderLen+dataLen), p.Rate, 1, dataLen)
	for _, v := range p.PCM {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}
