// Package g711 implements ITU-T G.711 µ-law (PCMU) and A-law (PCMA) with
// its own tables, allocating nothing per frame.
//
// 16-bit linear input is reduced to the 14-bit (µ-law) or 13-bit (A-law)
// sign-magnitude range the standard quantises the way the ITU-T G.191
// software tool library does: negative values use the one's complement,
// so x and ^x (that is -x-1) always encode to the same magnitude with
// opposite signs, 0 encodes to 0xFF (µ-law) or 0xD5 (A-law), and -1 to
// 0x7F or 0x55. Decoding returns the midpoint of each quantisation
// interval scaled to 16 bits (µ-law 0x00 is -32124, A-law 0xAA is 32256).
//
// Standards: ITU-T G.711 (pulse code modulation of voice frequencies),
// ITU-T G.191 (reference g711.c), RFC 3551 section 4.5.14 (PCMU, PCMA
// payload formats, static payload types 0 and 8).
package g711
