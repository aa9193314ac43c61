package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"
)

// Config configures a Verifier. The zero value of each field means its default.
type Config struct {
	Realm    string        // default "softswitch"
	NonceTTL time.Duration // how long a nonce is good for; default 5 minutes
	// Algorithms are offered in this order. Default: MD5 only. Offering
	// SHA-256 as well (RFC 8760) is a choice for the operator: libre-based
	// phones (baresip 1.x) give up on a challenge they cannot answer
	// instead of skipping to the next one.
	Algorithms []string
	MaxNonces  int // nonces tracked for nc replay; default 100000
}

// Verifier issues challenges and checks credentials against them. Nonces
// are stateless (time stamp + random + HMAC under a per-process key, bound
// to the source address the challenge was sent to); the highest nonce count
// seen per nonce is remembered until the nonce expires.
type Verifier struct {
	realm string
	ttl   time.Duration
	algs  []string
	key   []byte
	now   func() time.Time

	// prefix and suffix of each algorithm's challenge, around the nonce.
	prefix, suffix, staleSuffix []string
	macs                        sync.Pool // of *macState: keyed HMACs, reused

	mu      sync.Mutex
	seen    map[string]seenNonce
	maxSeen int
}

// macState is a keyed HMAC-SHA256 with its input and output buffers, so
// that a nonce's MAC allocates nothing.
type macState struct {
	h   hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

type seenNonce struct {
	nc      uint32
	expires time.Time
}

const (
	nonceTSLen   = 8
	nonceRandLen = 8
	nonceMACLen  = 12
	nonceLen     = nonceTSLen + nonceRandLen + nonceMACLen
)

// NewVerifier returns a Verifier with a fresh random nonce key.
func NewVerifier(cfg Config) (*Verifier, error) {
	v := &Verifier{
		realm:   cfg.Realm,
		ttl:     cfg.NonceTTL,
		key:     make([]byte, 32),
		now:     time.Now,
		seen:    make(map[string]seenNonce),
		maxSeen: cfg.MaxNonces,
	}
	if v.realm == "" {
		v.realm = "softswitch"
	}
	if v.ttl <= 0 {
		v.ttl = 5 * time.Minute
	}
	if v.maxSeen <= 0 {
		v.maxSeen = 100000
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = []string{MD5}
	}
	for _, a := range algs {
		c, err := canonical(a)
		if err != nil {
			return nil, fmt.Errorf("new verifier: %w", err)
		}
		v.algs = append(v.algs, c)
	}
	if _, err := rand.Read(v.key); err != nil {
		return nil, fmt.Errorf("new verifier: nonce key: %w", err)
	}
	for _, alg := range v.algs {
		v.prefix = append(v.prefix, `Digest realm="`+v.realm+`", nonce="`)
		v.suffix = append(v.suffix, `", algorithm=`+alg+`, qop="auth"`)
		v.staleSuffix = append(v.staleSuffix, `", algorithm=`+alg+`, qop="auth", stale=true`)
	}
	key := v.key
	v.macs.New = func() any { return &macState{h: hmac.New(sha256.New, key), in: make([]byte, 0, 128)} }
	return v, nil
}

// Realm is the realm challenges are issued for.
func (v *Verifier) Realm() string { return v.realm }

// Request is what an answer to a challenge is checked against.
type Request struct {
	Method string
	// Source is the address (IP, no port) the request came from: a nonce
	// is only good from the address it was sent to.
	Source string
	// User and Host are the Request-URI's user (may be empty) and host:
	// the credentials' uri must name them (see matchURI).
	User, Host string
}

// Challenges returns one WWW-Authenticate/Proxy-Authenticate value per
// offered algorithm, in order of preference (RFC 8760 §2.4), each with a
// fresh nonce for source (an IP, no port) and qop="auth".
func (v *Verifier) Challenges(source string, stale bool) []string {
	out := make([]string, 0, len(v.algs))
	suffix := v.suffix
	if stale {
		suffix = v.staleSuffix
	}
	for i := range v.algs {
		var n [nonceTextLen]byte
		var b strings.Builder // one allocation per challenge
		b.Grow(len(v.prefix[i]) + nonceTextLen + len(suffix[i]))
		b.WriteString(v.prefix[i])
		b.Write(v.nonceText(&n, source))
		b.WriteString(suffix[i])
		out = append(out, b.String())
	}
	return out
}

// nonceTextLen is the length of a nonce in unpadded base64
// (base64.RawURLEncoding.EncodedLen(nonceLen)).
const nonceTextLen = (nonceLen*8 + 5) / 6

func (v *Verifier) nonce(source string) string {
	var n [nonceTextLen]byte
	return string(v.nonceText(&n, source))
}

// nonceText writes a fresh nonce for source into dst and returns it.
func (v *Verifier) nonceText(dst *[nonceTextLen]byte, source string) []byte {
	var raw [nonceLen]byte
	binary.BigEndian.PutUint64(raw[:nonceTSLen], uint64(v.now().UnixNano()))
	// crypto/rand.Read never fails on Linux (Go ≥1.24 documents it as fatal otherwise).
	_, _ = rand.Read(raw[nonceTSLen : nonceTSLen+nonceRandLen])
	v.mac(raw[nonceTSLen+nonceRandLen:], raw[:nonceTSLen+nonceRandLen], source)
	base64.RawURLEncoding.Encode(dst[:], raw[:])
	return dst[:]
}

// mac writes into dst (nonceMACLen bytes) the MAC that authenticates a
// nonce's time stamp and random part b, and the source it is issued to.
func (v *Verifier) mac(dst, b []byte, source string) {
	m := v.macs.Get().(*macState)
	defer v.macs.Put(m)
	m.in = append(append(append(m.in[:0], b...), 0), source...)
	m.h.Reset()
	m.h.Write(m.in)
	copy(dst, m.h.Sum(m.sum[:0])[:nonceMACLen])
}

// issued checks that a nonce is ours, issued to source, and returns when
// it was issued.
func (v *Verifier) issued(nonce, source string) (time.Time, bool) {
	if len(nonce) != nonceTextLen {
		return time.Time{}, false
	}
	var text [nonceTextLen]byte
	var raw, want [nonceLen]byte
	copy(text[:], nonce)
	if n, err := base64.RawURLEncoding.Decode(raw[:], text[:]); err != nil || n != nonceLen {
		return time.Time{}, false
	}
	v.mac(want[:nonceMACLen], raw[:nonceTSLen+nonceRandLen], source)
	if !hmac.Equal(raw[nonceTSLen+nonceRandLen:], want[:nonceMACLen]) {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(raw[:nonceTSLen]))), true
}

// Verify checks credentials for a request against the user's HA1 for the
// algorithm the client chose; several HA1s (ephemeral credentials during a
// secret rotation) are all tried, any one may match.
//
// A nonce we did not issue to the request's source (another address, a
// forged or foreign nonce, one issued before a restart) gets ErrStale
// whatever the response: the client was never challenged from there, so
// its answer proves nothing and must neither count as a failure (a spoofed
// source could lock an office out) nor tell a right password from a wrong
// one. With a nonce issued to the source, a wrong response is
// ErrBadResponse whatever the nonce's age, and ErrStale (stale=true) is
// only told to a client that knows the password (RFC 7616 §3.3). A right
// response whose uri does not name the Request-URI is ErrURI.
func (v *Verifier) Verify(r Request, c Credentials, ha1s ...string) error {
	if !v.offers(c.Algorithm) {
		return fmt.Errorf("%w: %q", ErrAlgorithm, c.Algorithm)
	}
	if c.Realm != v.realm {
		return fmt.Errorf("%w: %q", ErrRealm, c.Realm)
	}
	if c.QOP != "" && c.QOP != "auth" {
		return fmt.Errorf("%w: %q", ErrQOP, c.QOP)
	}
	matched := false
	for _, ha1 := range ha1s { // no early exit: the same work for every outcome
		want, err := Response(c, r.Method, ha1)
		if err != nil {
			return err
		}
		if equalHex(want, c.Response) {
			matched = true
		}
	}
	at, ok := v.issued(c.Nonce, r.Source)
	if !ok {
		return fmt.Errorf("%w: nonce not issued to %s by this process", ErrStale, r.Source)
	}
	if !matched {
		return ErrBadResponse
	}
	if err := matchURI(c.URI, r.User, r.Host); err != nil {
		return err
	}
	now := v.now()
	if now.Sub(at) > v.ttl || at.After(now.Add(time.Minute)) {
		return ErrStale
	}
	return v.checkCount(c, at.Add(v.ttl))
}

func (v *Verifier) offers(alg string) bool {
	c, err := canonical(alg)
	if err != nil {
		return false
	}
	for _, a := range v.algs {
		if a == c {
			return true
		}
	}
	return false
}

// checkCount enforces a strictly increasing nc per nonce (qop=auth), or a
// single use of the nonce without qop.
func (v *Verifier) checkCount(c Credentials, expires time.Time) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	prev, ok := v.seen[c.Nonce]
	if ok && (c.QOP == "" || c.NC <= prev.nc) {
		return ErrReplay
	}
	if !ok && len(v.seen) >= v.maxSeen {
		v.sweepLocked()
		if len(v.seen) >= v.maxSeen {
			// Too many live nonces to track: ask for a new one rather than
			// accept a count we cannot check.
			return ErrStale
		}
	}
	v.seen[c.Nonce] = seenNonce{nc: c.NC, expires: expires}
	return nil
}

func (v *Verifier) sweepLocked() {
	now := v.now()
	for k, s := range v.seen {
		if now.After(s.expires) {
			delete(v.seen, k)
		}
	}
}
