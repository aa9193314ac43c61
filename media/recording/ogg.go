package recording

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/softswitch/softswitch/codecs/opus"
)

// Ogg Opus (RFC 7845) constants.
const (
	oggFrame   = Rate / 50 // stereo sample frames per 20 ms Opus packet
	oggGranule = 960       // 48 kHz samples per packet: granules always count at 48 kHz
	oggPreSkip = 312       // libopus's encoder delay at 48 kHz (6.5 ms)
	oggMaxSegs = 255       // lacing values per page
	oggSerial  = 0x534f4654
	oggVendor  = "softswitch (libopus)"
	// oggMaxPacket bounds one multistream packet: two mono packets and
	// the self-delimiting length.
	oggMaxPacket = 2*opus.MaxPayload + 2
)

// Ogg page header flags.
const (
	oggBOS = 0x02
	oggEOS = 0x04
)

// oggCRC is the Ogg page checksum table: CRC-32, polynomial 0x04c11db7,
// not reflected, initial value 0 (RFC 3533 section 6).
var oggCRC = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggFile writes interleaved stereo PCM at Rate as Opus in Ogg: each
// write becomes whole pages, so a file cut at any moment (kill -9) holds
// every page written before, which players read. Only the Recorder's
// writer uses it.
type oggFile struct {
	f       *os.File
	enc     [2]*opus.Encoder // one mono encoder per party
	mono    [2][]int16       // a frame of each channel
	frames  int64            // stereo sample frames taken
	pend    []int16          // the start of the next 20 ms frame
	granule int64            // of the last packet paged
	seq     uint32
	packets [][]byte // encoded, not yet paged
	ends    []int64  // the granule position at the end of each of packets
	pool    []byte   // room for encoded packets
	used    int
	page    []byte
	err     error
}

func newOggFile(f *os.File) (*oggFile, error) {
	npkts := ringSamples/oggFrame + 2 // a write is at most a ring
	o := &oggFile{f: f, pend: make([]int16, 0, 2*oggFrame), packets: make([][]byte, 0, npkts),
		ends: make([]int64, 0, npkts), pool: make([]byte, npkts*oggMaxPacket), page: make([]byte, 0, 64<<10)}
	for ch := range o.enc {
		enc, err := opus.NewEncoder(opus.Config{Rate: Rate})
		if err != nil {
			return nil, err
		}
		o.enc[ch], o.mono[ch] = enc, make([]int16, oggFrame)
	}
	// Two uncoupled mono streams (channel mapping family 1, RFC 7845
	// section 5.1.1.2) rather than one stereo stream: Opus's joint stereo
	// would let each party leak into the other's channel (about 17 dB
	// apart on a real call at libopus's automatic bitrate).
	head := append([]byte("OpusHead"), 1, 2) // version 1, 2 channels
	head = binary.LittleEndian.AppendUint16(head, oggPreSkip)
	head = binary.LittleEndian.AppendUint32(head, Rate) // the input rate, informational
	head = append(head, 0, 0, 1)                        // output gain 0, mapping family 1
	head = append(head, 2, 0, 0, 1)                     // 2 streams, none coupled; left = stream 0, right = stream 1
	tags := append([]byte("OpusTags"), binary.LittleEndian.AppendUint32(nil, uint32(len(oggVendor)))...)
	tags = append(append(tags, oggVendor...), 0, 0, 0, 0) // no comments
	// RFC 7845: the identification header alone on the first page, the
	// comment header on its own page(s), both with granule position 0.
	o.packets, o.ends = append(o.packets, head), append(o.ends, 0)
	if err := o.writePages(oggBOS); err != nil {
		return nil, err
	}
	o.packets, o.ends = append(o.packets, tags), append(o.ends, 0)
	if err := o.writePages(0); err != nil {
		return nil, err
	}
	return o, nil
}

// write encodes pcm (interleaved stereo) in 20 ms packets and writes
// them out as pages; a partial frame waits for the next write.
func (o *oggFile) write(pcm []int16) error {
	if o.err != nil {
		return nil
	}
	o.frames += int64(len(pcm) / 2)
	for len(pcm) > 0 {
		n := min(len(pcm), cap(o.pend)-len(o.pend))
		o.pend, pcm = append(o.pend, pcm[:n]...), pcm[n:]
		if len(o.pend) == cap(o.pend) {
			if err := o.encode(); err != nil {
				return err
			}
		}
	}
	return o.flushPages(0)
}

// encode turns the pending frame into a packet.
func (o *oggFile) encode() error {
	if o.used+oggMaxPacket > len(o.pool) { // cannot happen: a write is at most a ring
		if err := o.flushPages(0); err != nil {
			return err
		}
	}
	for i := range oggFrame {
		o.mono[0][i], o.mono[1][i] = o.pend[2*i], o.pend[2*i+1]
	}
	n, err := o.multistream(o.pool[o.used : o.used+oggMaxPacket])
	if err != nil {
		o.err = err
		return err
	}
	o.used += n
	o.granule += oggGranule
	o.packets, o.ends = append(o.packets, o.pool[o.used-n:o.used]), append(o.ends, o.granule)
	o.pend = o.pend[:0]
	return nil
}

// multistream encodes the two channels' frames into one Opus multistream
// packet (RFC 6716 appendix B): the left stream's packet in
// self-delimiting framing, then the right's as it is. libopus makes a
// single-frame (code 0) packet of a 20 ms frame; another code is an error.
func (o *oggFile) multistream(dst []byte) (int, error) {
	// The left packet goes after room for its TOC and length (2 bytes at most).
	n0, err := o.enc[0].Encode(dst[3:3+opus.MaxPayload], o.mono[0])
	if err != nil {
		return 0, err
	}
	pkt := dst[3 : 3+n0]
	if pkt[0]&3 != 0 {
		return 0, fmt.Errorf("ogg: opus packet code %d, want 0", pkt[0]&3)
	}
	toc, frame := pkt[0], n0-1
	// TOC, length (1 or 2 bytes), frame: the frame moves left over the
	// unused room (copy handles the overlap).
	dst[0] = toc
	k := 2
	if frame < 252 {
		dst[1] = byte(frame)
	} else {
		first := 252 + frame&3
		dst[1], dst[2], k = byte(first), byte((frame-first)/4), 3
	}
	k += copy(dst[k:], dst[4:3+n0])
	n1, err := o.enc[1].Encode(dst[k:k+opus.MaxPayload], o.mono[1])
	if err != nil {
		return 0, err
	}
	return k + n1, nil
}

// flushPages writes the queued packets as pages; flags (oggEOS) go on
// the last page.
func (o *oggFile) flushPages(flags byte) error {
	if len(o.packets) == 0 && flags == 0 {
		return nil
	}
	err := o.writePages(flags)
	o.used = 0
	return err
}

// writePages writes o.packets as one or more pages of at most 255
// lacing values. A page ends on a packet boundary (a 20 ms packet is far
// below 255*255 bytes), so its granule position is its last packet's.
func (o *oggFile) writePages(flags byte) error {
	pkts, ends := o.packets, o.ends
	for first := true; first || len(pkts) > 0; first = false {
		segs, n := 0, 0
		for n < len(pkts) && segs+len(pkts[n])/255+1 <= oggMaxSegs {
			segs += len(pkts[n])/255 + 1
			n++
		}
		var f byte
		if first {
			f = flags & oggBOS
		}
		if n == len(pkts) {
			f |= flags & oggEOS
		}
		var granule int64
		if n > 0 {
			granule = ends[n-1]
		}
		if err := o.writePage(f, granule, pkts[:n]); err != nil {
			o.err = err
			return err
		}
		pkts, ends = pkts[n:], ends[n:]
	}
	o.packets, o.ends = o.packets[:0], o.ends[:0]
	return nil
}

// writePage writes one page holding pkts.
func (o *oggFile) writePage(flags byte, granule int64, pkts [][]byte) error {
	p := append(o.page[:0], "OggS"...)
	p = append(p, 0, flags)
	p = binary.LittleEndian.AppendUint64(p, uint64(granule))
	p = binary.LittleEndian.AppendUint32(p, oggSerial)
	p = binary.LittleEndian.AppendUint32(p, o.seq)
	p = append(p, 0, 0, 0, 0) // CRC, filled in below
	nsegs := len(p)
	p = append(p, 0)
	for _, pk := range pkts {
		for range len(pk) / 255 {
			p = append(p, 255)
		}
		p = append(p, byte(len(pk)%255))
	}
	p[nsegs] = byte(len(p) - nsegs - 1)
	for _, pk := range pkts {
		p = append(p, pk...)
	}
	var crc uint32
	for _, b := range p {
		crc = crc<<8 ^ oggCRC[byte(crc>>24)^b]
	}
	binary.LittleEndian.PutUint32(p[22:26], crc)
	o.page = p
	o.seq++
	if _, err := o.f.Write(p); err != nil {
		return fmt.Errorf("write ogg page: %w", err)
	}
	return nil
}

func (o *oggFile) taken() int64 { return o.frames }

// close pads and encodes the last partial frame, adds a silent packet
// when the encoder's delay (pre-skip) still holds input back, ends the
// stream with the exact length in the last granule position (RFC 7845
// section 4.5: the end is trimmed), syncs and closes the file.
func (o *oggFile) close() error {
	end := oggPreSkip + o.frames*(48000/Rate)
	for o.err == nil && (len(o.pend) > 0 || o.granule < end) { // at most two rounds
		for len(o.pend) < cap(o.pend) {
			o.pend = append(o.pend, 0)
		}
		_ = o.encode()
	}
	if o.err == nil {
		if len(o.ends) > 0 {
			o.ends[len(o.ends)-1] = end
		}
		_ = o.flushPages(oggEOS)
	}
	return errors.Join(o.err, o.f.Sync(), o.f.Close())
}
