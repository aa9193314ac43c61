package main

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/softswitch/softswitch/media/recording"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/softswitch/softswitch/b2bua/auth"
	"github.com/softswitch/softswitch/b2bua/registrar"
	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/b2bua/siptrace"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/b2bua/trunk"
	"github.com/softswitch/softswitch/media/mixer"
	"github.com/softswitch/softswitch/media/prompts"
	"github.com/softswitch/softswitch/media/webrtcep"
)

// MWIConfig configures message waiting indication.
type MWIConfig struct {
	// Unsolicited sends message-summary NOTIFYs to the registered devices
	// of an extension that has no subscription (for phones that never
	// subscribe); default off.
	Unsolicited bool `yaml:"unsolicited"`
}

// MessagesConfig configures SIP MESSAGE between extensions.
type MessagesConfig struct {
	// Store keeps a MESSAGE for an extension with no device registered and
	// delivers it at its next REGISTER (202); false answers 480. Default true.
	Store *bool `yaml:"store"`
	// MaxBody is the largest body taken, in bytes (larger: 413); default 8192.
	MaxBody int `yaml:"max_body"`
}

// Config is the resolved configuration of `softswitch serve`. Every field
// has a key in configs/softswitch.yaml; flags override the file.
type Config struct {
	Data     string `yaml:"data"`
	SIP      string `yaml:"sip"`
	SIPTLS   string `yaml:"sip_tls"`
	HTTPS    string `yaml:"https"`
	WS       string `yaml:"ws"`
	RTPPorts string `yaml:"rtp_ports"`
	MediaIP  string `yaml:"media_ip"`
	Dialplan string `yaml:"dialplan"`
	LogLevel string `yaml:"log_level"`
	// LogFormat is "text" (default: key=value lines) or "json" (one JSON
	// object a line).
	LogFormat string `yaml:"log_format"`
	// LogFile receives the log instead of stderr; SIGUSR1 reopens it
	// (logrotate). Empty (default): stderr.
	LogFile   string `yaml:"log_file"`
	TLSCert   string `yaml:"tls_cert"`
	TLSKey    string `yaml:"tls_key"`
	DemoUsers bool   `yaml:"demo_users"`
	// WebRTCPort is the one UDP port all browser media shares (ICE-lite).
	WebRTCPort int `yaml:"webrtc_port"`
	// WebRTCEngine is the browser media transport: "lite" (default: a
	// UDP port per call from rtp_ports, ICE-lite, DTLS-SRTP without a
	// PeerConnection; webrtc_port is unused) or "peerconnection" (a pion
	// PeerConnection per call, all on webrtc_port).
	WebRTCEngine string `yaml:"webrtc_engine"`
	// Pprof serves Go's profiles (/debug/pprof/) on this loopback
	// address, for benchmarks and debugging; empty (default) is off.
	Pprof string `yaml:"pprof"`

	AnonymousDestinations []string `yaml:"anonymous_destinations"`
	// MWI configures message waiting indication (voicemail lamps).
	MWI MWIConfig `yaml:"mwi"`
	// Messages configures SIP MESSAGE (instant messages) between extensions.
	Messages MessagesConfig `yaml:"messages"`

	MaxMessageSize int `yaml:"max_message_size"`
	// ServerHeader is our Server/User-Agent header; default "softswitch"
	// (no version: it tells a scanner what to try).
	ServerHeader string `yaml:"server_header"`
	// Connections bounds TCP, TLS and WebSocket connections; Max 0 means
	// half the process's descriptor limit.
	Connections sipserver.ConnLimits `yaml:"connections"`
	Registrar   registrar.Limits     `yaml:"registrar"`
	Auth        AuthConfig           `yaml:"auth"`
	Guard       auth.GuardConfig     `yaml:"auth_guard"`
	// RateLimit limits out-of-dialog INVITE and REGISTER per source IP.
	RateLimit sipserver.RateLimits `yaml:"rate_limit"`
	// RTPTimeout ends a call whose peer sent RTP and then stopped for this
	// long; 0 means 30s, negative turns it off.
	RTPTimeout time.Duration `yaml:"rtp_timeout"`
	// DrainTimeout is how long SIGTERM lets calls go on before hanging
	// them up; 0 means 30s.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// TransferFallback is what a transferred party gets when the transfer
	// target fails: "reconnect" (the default: back to the referrer) or
	// "hangup".
	TransferFallback string `yaml:"transfer_fallback"`
	// Conference sets the rooms' mixers: rate (Hz, default 16000),
	// talkers (loudest mixed at once, default 3), threshold (RMS below
	// which a member is silent, default 150).
	Conference mixer.Config `yaml:"conference"`

	// SIPTrace logs every SIP message at debug with its call_id
	// (`softswitch sip-trace on|off` switches it at runtime).
	SIPTrace bool `yaml:"sip_trace"`
	// HEP exports every SIP message as HEP v3 (Homer, sngrep); off when
	// its address is empty.
	HEP siptrace.HEPConfig `yaml:"hep"`
	// Metrics serves Prometheus /metrics, /healthz and /readyz on this
	// host:port; empty (default) is off.
	Metrics string `yaml:"metrics"`
	// CallHistory is how many calls `softswitch call show` remembers
	// (in the database, across restarts); 0 means 1000.
	CallHistory int `yaml:"call_history"`

	// Trunks are the carriers; they can change without a restart.
	Trunks []trunk.Config `yaml:"trunks"`

	// Prompts is the prompt store: NAME.wav files in its dir (default
	// DATA/prompts) play by name before the embedded prompts; max_bytes
	// bounds the decoded audio kept (0: 64 MiB).
	Prompts prompts.Config `yaml:"prompts"`
	// MOH is what a held party hears: "" for the bundled music, a prompt
	// name or WAV path, or "off" for silence.
	MOH string `yaml:"moh"`
	// Recordings is where call recordings (call:record_call, bridge
	// {record = true}) and call:record files go.
	Recordings RecordingsConfig `yaml:"recordings"`

	// Database is where users, registrations and CDRs live: SQLite in
	// DATA/softswitch.db (the default), or PostgreSQL shared by several
	// nodes ({driver: postgres, dsn: postgres://...}).
	Database DatabaseConfig `yaml:"database"`
	// Node names this server in the CDRs it writes (the node column);
	// nodes sharing a database need distinct names. Default "".
	Node string `yaml:"node"`
	// Proxies are the SIP proxies (Kamailio) this node sits behind: IP
	// addresses or CIDR prefixes. Their requests are not rate-limited,
	// authentication failures count against the client they name in
	// X-Softswitch-Client,
	// REGISTERs through them keep their Path (RFC 3327) and calls to those
	// contacts go back through it, and bindings are read from the shared
	// database (another node may have taken the REGISTER). Empty: a
	// single node.
	Proxies []string `yaml:"proxies"`
	// WebWSURL is the WebSocket the web phone registers on (wss://...);
	// empty (default): this server's /ws. Behind Kamailio: its WSS
	// listener, so that a browser's calls can go to any node.
	WebWSURL string `yaml:"web_ws_url"`
}

// proxyPrefixes parses Proxies (validated by validate).
func (c *Config) proxyPrefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(c.Proxies))
	for _, p := range c.Proxies {
		if pf, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pf.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("config: proxies: %q is neither an IP address nor a prefix", p)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// isProxyFunc tells whether a host (an IP address) is one of prefixes;
// nil when there are none.
func isProxyFunc(prefixes []netip.Prefix) func(host string) bool {
	if len(prefixes) == 0 {
		return nil
	}
	return func(host string) bool {
		a, err := netip.ParseAddr(strings.Trim(host, "[]"))
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
}

// DatabaseConfig selects the store's database.
type DatabaseConfig struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver string `yaml:"driver"`
	// DSN is PostgreSQL's connection string (unused with SQLite, whose
	// file is DATA/softswitch.db).
	DSN string `yaml:"dsn"`
}

// RecordingsConfig configures recordings.
type RecordingsConfig struct {
	// Dir holds the files; "" is DATA/recordings.
	Dir string `yaml:"dir"`
	// Format of call recordings (caller left, callee right): "wav" (the
	// default: stereo 16-bit PCM at 8 kHz, NAME.wav) or "ogg" (stereo
	// Opus in Ogg, RFC 7845, 24 kbit/s, NAME.opus).
	Format string `yaml:"format"`
}

// AuthConfig configures digest authentication.
type AuthConfig struct {
	NonceTTL   time.Duration `yaml:"nonce_ttl"`
	Algorithms []string      `yaml:"algorithms"`
	// Ephemeral accepts time-limited credentials minted by a web app.
	Ephemeral auth.EphemeralConfig `yaml:"ephemeral"`
}

func defaultConfig() Config {
	return Config{
		Data:       "./data",
		SIP:        "0.0.0.0:5060",
		SIPTLS:     "0.0.0.0:5061",
		HTTPS:      "0.0.0.0:8443",
		RTPPorts:   "10000-20000",
		WebRTCPort: 8443,
		Dialplan:   "scripts/dialplan.lua",
		LogLevel:   "info",
	}
}

// loadConfigFile reads a YAML file over the defaults; unknown keys are errors.
func loadConfigFile(cfg *Config, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	// An empty file is fine: yaml.v3 reports it as io.EOF.
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, oneLineError{err})
	}
	return resolveConfigPaths(cfg, raw, filepath.Dir(path))
}

// configPaths are the keys holding file or directory names; nil: not in
// the file.
type configPaths struct {
	Data     *string `yaml:"data"`
	Dialplan *string `yaml:"dialplan"`
	LogFile  *string `yaml:"log_file"`
	TLSCert  *string `yaml:"tls_cert"`
	TLSKey   *string `yaml:"tls_key"`
	MOH      *string `yaml:"moh"`
	Prompts  struct {
		Dir *string `yaml:"dir"`
	} `yaml:"prompts"`
	Recordings struct {
		Dir *string `yaml:"dir"`
	} `yaml:"recordings"`
}

// resolveConfigPaths makes the relative paths the file names relative to
// its directory, dir, whatever the working directory. moh is a path only
// when it names a .wav file or holds a slash (else a prompt name or off).
func resolveConfigPaths(cfg *Config, raw []byte, dir string) error {
	var p configPaths
	if err := yaml.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("config: %w", oneLineError{err})
	}
	fix := func(src *string, dst *string) {
		if src != nil && *src != "" && !filepath.IsAbs(*src) {
			*dst = filepath.Join(dir, *src)
		}
	}
	fix(p.Data, &cfg.Data)
	fix(p.Dialplan, &cfg.Dialplan)
	fix(p.LogFile, &cfg.LogFile)
	fix(p.TLSCert, &cfg.TLSCert)
	fix(p.TLSKey, &cfg.TLSKey)
	fix(p.Prompts.Dir, &cfg.Prompts.Dir)
	fix(p.Recordings.Dir, &cfg.Recordings.Dir)
	if p.MOH != nil && (strings.HasSuffix(*p.MOH, ".wav") || strings.Contains(*p.MOH, "/")) {
		fix(p.MOH, &cfg.MOH)
	}
	return nil
}

// oneLineError folds yaml.v3's multi-line errors into one line.
type oneLineError struct{ err error }

func (e oneLineError) Error() string {
	s := strings.Join(strings.Fields(e.err.Error()), " ")
	s = strings.ReplaceAll(s, "yaml: unmarshal errors: ", "")
	return strings.ReplaceAll(s, " in type main.Config", "")
}

func (e oneLineError) Unwrap() error { return e.err }

// validate checks every value and returns the first problem in one line.
func (c *Config) validate() error {
	for _, a := range []struct{ key, val string }{{"sip", c.SIP}, {"sip_tls", c.SIPTLS}, {"https", c.HTTPS}, {"ws", c.WS}} {
		if a.val == "" {
			continue
		}
		host, port, err := net.SplitHostPort(a.val)
		if err != nil {
			return fmt.Errorf("config: %s: %q is not host:port", a.key, a.val)
		}
		if host != "" && net.ParseIP(host) == nil && host != "localhost" {
			return fmt.Errorf("config: %s: %q is not an IP address", a.key, host)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("config: %s: port %q out of range", a.key, port)
		}
	}
	if c.SIP == "" && c.SIPTLS == "" && c.HTTPS == "" && c.WS == "" {
		return errors.New("config: every SIP listener is off (sip, sip_tls, https, ws)")
	}
	switch c.TransferFallback {
	case "", "reconnect", "hangup":
	default:
		return fmt.Errorf("config: transfer_fallback: %q is neither reconnect nor hangup", c.TransferFallback)
	}
	if err := c.Conference.Validate(); err != nil {
		return fmt.Errorf("config: conference: %w", err)
	}
	if _, _, err := parsePortRange(c.RTPPorts); err != nil {
		return fmt.Errorf("config: rtp_ports: %w", err)
	}
	if _, err := recording.ParseFormat(c.Recordings.Format); err != nil {
		return fmt.Errorf("config: recordings.format: %w", err)
	}
	if c.Prompts.MaxBytes < 0 {
		return fmt.Errorf("config: prompts.max_bytes: %d is negative", c.Prompts.MaxBytes)
	}
	if c.WebRTCPort < 0 || c.WebRTCPort > 65535 {
		return fmt.Errorf("config: webrtc_port: %d out of range 0-65535", c.WebRTCPort)
	}
	if c.WebRTCEngine != "" && c.WebRTCEngine != webrtcep.EngineLite && c.WebRTCEngine != webrtcep.EnginePeerConnection {
		return fmt.Errorf("config: webrtc_engine: %q (want %s or %s)", c.WebRTCEngine, webrtcep.EngineLite, webrtcep.EnginePeerConnection)
	}
	if c.Pprof != "" {
		host, _, err := net.SplitHostPort(c.Pprof)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("config: pprof: %q is not a loopback host:port (profiles are not for the network)", c.Pprof)
		}
	}
	for _, a := range []struct{ key, val string }{{"hep.address", c.HEP.Address}, {"metrics", c.Metrics}} {
		if a.val == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(a.val); err != nil || port == "" {
			return fmt.Errorf("config: %s: %q is not host:port", a.key, a.val)
		}
	}
	if c.CallHistory < 0 || c.CallHistory > 1000000 {
		return fmt.Errorf("config: call_history: %d out of range 0-1000000", c.CallHistory)
	}
	if c.MediaIP != "" && net.ParseIP(c.MediaIP) == nil {
		return fmt.Errorf("config: media_ip: %q is not an IP address", c.MediaIP)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return fmt.Errorf("config: log_level: %w", err)
	}
	switch c.LogFormat {
	case "", logFormatText, logFormatJSON:
	default:
		return fmt.Errorf("config: log_format: %q (want %s or %s)", c.LogFormat, logFormatText, logFormatJSON)
	}
	if c.Data == "" {
		return errors.New("config: data: empty directory")
	}
	if _, err := c.proxyPrefixes(); err != nil {
		return err
	}
	if c.WebWSURL != "" && !strings.HasPrefix(c.WebWSURL, "wss://") && !strings.HasPrefix(c.WebWSURL, "ws://") {
		return fmt.Errorf("config: web_ws_url: %q (want wss://host:port/...)", c.WebWSURL)
	}
	switch c.Database.Driver {
	case "", store.DriverSQLite:
		if c.Database.DSN != "" {
			return errors.New("config: database.dsn: only for driver postgres (SQLite lives in data)")
		}
	case store.DriverPostgres:
		if c.Database.DSN == "" {
			return errors.New("config: database.dsn: empty (driver postgres needs one)")
		}
	default:
		return fmt.Errorf("config: database.driver: %q (want sqlite or postgres)", c.Database.Driver)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("config: tls_cert and tls_key go together")
	}
	if c.MaxMessageSize < 0 || c.MaxMessageSize > 65535 {
		return fmt.Errorf("config: max_message_size: %d out of range 0-65535", c.MaxMessageSize)
	}
	for _, a := range c.Auth.Algorithms {
		if _, err := auth.HA1(a, "", "", ""); err != nil {
			return fmt.Errorf("config: auth.algorithms: %q: want MD5 or SHA-256", a)
		}
	}
	if _, err := auth.NewEphemeral(c.Auth.Ephemeral); err != nil {
		return fmt.Errorf("config: auth.ephemeral: %w", err)
	}
	r := c.Registrar
	if r.MinExpires < 0 || r.MaxExpires < 0 || r.DefaultExpires < 0 || r.MaxContacts < 0 {
		return errors.New("config: registrar: values must not be negative")
	}
	if c.Auth.NonceTTL < 0 || c.Guard.Window < 0 || c.Guard.BanFor < 0 || c.Guard.ThrottleAfter < 0 || c.Guard.BanAfter < 0 {
		return errors.New("config: auth: values must not be negative")
	}
	if c.DrainTimeout < 0 {
		return errors.New("config: drain_timeout: must not be negative")
	}
	if cl := c.Connections; cl.Max < 0 || cl.PerSource < 0 || cl.IdleTimeout < 0 || cl.HandshakeTimeout < 0 {
		return errors.New("config: connections: values must not be negative")
	}
	if strings.ContainsAny(c.ServerHeader, "\r\n") {
		return errors.New("config: server_header: must be one line")
	}
	if rl := c.RateLimit; rl.Invite.Burst < 0 || rl.Register.Burst < 0 || rl.MaxSources < 0 {
		return errors.New("config: rate_limit: burst and max_sources must not be negative")
	}
	if err := trunk.NormalizeAll(c.Trunks); err != nil {
		return fmt.Errorf("config: trunks: %w", err)
	}
	return nil
}

// parsePortRange parses "LO-HI" with 1024 <= LO < HI <= 65535.
func parsePortRange(s string) (int, int, error) {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want LO-HI", s)
	}
	l, err1 := strconv.Atoi(strings.TrimSpace(lo))
	h, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || l < 1024 || h > 65535 || l >= h {
		return 0, 0, fmt.Errorf("%q: want LO-HI with 1024 <= LO < HI <= 65535", s)
	}
	return l, h, nil
}
