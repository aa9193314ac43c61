package trunk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/auth"
)

// requestTimeout bounds one REGISTER or OPTIONS transaction.
const requestTimeout = 10 * time.Second

// registerLoop keeps the registration alive: refresh before expiry, retry
// with back-off on failure, and unregister when the trunk stops.
func (t *Trunk) registerLoop(ctx context.Context) {
	r := &registration{t: t, callID: sip.GenerateTagN(24), tag: sip.GenerateTagN(16), cseq: 1}
	backoff := t.opt.RetryMin
	for {
		t.resolve(ctx)
		expires, err := r.send(ctx, t.cfg.Expires)
		if ctx.Err() != nil {
			break
		}
		wait := backoff
		if err != nil {
			t.setReg("failing", err.Error(), time.Time{})
			backoff = min(2*backoff, t.opt.RetryMax)
		} else {
			t.setReg("registered", "", time.Now().Add(expires))
			backoff = t.opt.RetryMin
			wait = refreshAfter(expires)
		}
		if !sleep(ctx, wait) {
			break
		}
	}
	t.mu.Lock()
	registered := t.reg.State == "registered"
	t.mu.Unlock()
	if !registered {
		return
	}
	uctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := r.send(uctx, 0); err != nil {
		t.log.Info("trunk unregister failed", "error", err)
		return
	}
	t.log.Info("trunk unregistered")
}

// refreshAfter is when to refresh a registration granted for d: at 80%,
// early enough for a lost request and its retransmissions.
func refreshAfter(d time.Duration) time.Duration {
	return max(d*8/10, time.Second)
}

// registration is one registration's dialog-like state: the same Call-ID
// and an increasing CSeq across refreshes (RFC 3261 §10.2.4).
type registration struct {
	t      *Trunk
	callID string
	tag    string
	cseq   uint32
}

// send REGISTERs for expires seconds (0 removes the binding) and returns
// what the registrar granted.
func (r *registration) send(ctx context.Context, expires int) (time.Duration, error) {
	c := &r.t.cfg
	for attempt := 0; attempt < 2; attempt++ {
		req := r.request(expires)
		res, err := r.t.do(ctx, req)
		if err != nil {
			return 0, err
		}
		r.cseq = req.CSeq().SeqNo + 1
		switch {
		case res.IsSuccess():
			return granted(res, c.ContactUser, expires), nil
		case res.StatusCode == 423 && attempt == 0 && expires > 0:
			// Interval Too Brief: ask again with the registrar's minimum.
			if h := res.GetHeader("Min-Expires"); h != nil {
				if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > expires && n <= 86400 {
					expires = n
					continue
				}
			}
		}
		return 0, fmt.Errorf("REGISTER refused: %d %s", res.StatusCode, res.Reason)
	}
	return 0, errors.New("REGISTER refused: 423 twice")
}

func (r *registration) request(expires int) *sip.Request {
	c := &r.t.cfg
	aor := sip.Uri{Scheme: "sip", User: c.Username, Host: c.Host}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: c.Host, Port: c.Port})
	req.SetTransport(strings.ToUpper(c.Transport))
	req.SetDestination(r.t.hostPort())
	r.t.opt.Prepare(req)
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.tag)
	cid := sip.CallIDHeader(r.callID)
	contact := r.t.opt.Contact(c.Transport)
	contact.Address.User = c.ContactUser
	exp := sip.ExpiresHeader(expires)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&contact)
	req.AppendHeader(&exp)
	return req
}

// granted is the expiry the registrar gave our contact: its expires
// parameter in the 200, else the Expires header, else what we asked.
func granted(res *sip.Response, contactUser string, asked int) time.Duration {
	secs := asked
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			secs = n
		}
	}
	for _, h := range res.GetHeaders("Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok || ch.Address.User != contactUser || ch.Params == nil {
			continue
		}
		if v, ok := ch.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				secs = n
				break
			}
		}
	}
	return time.Duration(max(secs, 1)) * time.Second
}

// do sends a request outside a dialog and answers one digest challenge
// with the trunk's credentials.
func (t *Trunk) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	return t.cfg.Do(ctx, t.opt.Client, req)
}

// Client sends a request and answers a digest challenge (*sipgo.Client).
type Client interface {
	Do(ctx context.Context, req *sip.Request, opts ...sipgo.ClientRequestOption) (*sip.Response, error)
	DoDigestAuth(ctx context.Context, req *sip.Request, res *sip.Response, auth sipgo.DigestAuth) (*sip.Response, error)
}

// Do sends req (outside a dialog) to the carrier through client, answers
// one 401/407 with the trunk's credentials (when CheckChallenge allows),
// and returns the final response; bounded by requestTimeout.
func (c *Config) Do(ctx context.Context, client Client, req *sip.Request) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	res, err := client.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s: no answer: %w", req.Method, err)
	}
	if res.StatusCode != 401 && res.StatusCode != 407 {
		return res, nil
	}
	if err := c.CheckChallenge(res); err != nil {
		return nil, err
	}
	res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: c.AuthUsername, Password: c.Password})
	if err != nil {
		return nil, fmt.Errorf("%s: no answer after authenticating: %w", req.Method, err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		return nil, fmt.Errorf("%s refused: %d %s: wrong credentials", req.Method, res.StatusCode, res.Reason)
	}
	return res, nil
}

// CheckChallenge tells whether the credentials may answer a 401/407: the
// trunk has some, and the challenge's realm is the configured one.
func (c *Config) CheckChallenge(res *sip.Response) error {
	if c.Password == "" {
		return fmt.Errorf("challenged (%d) but trunk %s has no credentials", res.StatusCode, c.Name)
	}
	if c.Realm == "" {
		return nil
	}
	name := "WWW-Authenticate"
	if res.StatusCode == 407 {
		name = "Proxy-Authenticate"
	}
	for _, h := range res.GetHeaders(name) {
		if realm, err := auth.ChallengeRealm(h.Value()); err == nil && realm == c.Realm {
			return nil
		}
	}
	return fmt.Errorf("challenged by a realm other than %q: credentials withheld", c.Realm)
}
