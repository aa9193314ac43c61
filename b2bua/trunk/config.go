package trunk

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// Config is one carrier, as configs/softswitch.yaml writes it under
// trunks:. Zero values mean the defaults noted on each field.
type Config struct {
	Name      string `yaml:"name"`      // the dialplan's trunk/NAME/NUMBER
	Host      string `yaml:"host"`      // carrier host name or IP
	Port      int    `yaml:"port"`      // default 5060, 5061 for tls
	Transport string `yaml:"transport"` // udp (default), tcp or tls

	// Digest credentials for REGISTER and for challenged INVITEs.
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	AuthUsername string `yaml:"auth_username"` // default Username
	// Realm, when set, is the only realm the credentials are given to.
	Realm string `yaml:"realm"`

	Register    bool   `yaml:"register"`     // outbound registration
	Expires     int    `yaml:"expires"`      // seconds asked for; default 600
	ContactUser string `yaml:"contact_user"` // user in our Contact; default Username

	// FromAddresses are where the carrier sends from; calls from them
	// are the carrier's. The host's own addresses always are. Each is
	// [transport:]ADDRESS[:port] or [transport:]CIDR, e.g. 203.0.113.7,
	// 198.51.100.0/28, udp:203.0.113.5:5060 or tls:[2001:db8::1]:5061;
	// without a port or transport any matches.
	FromAddresses []string `yaml:"from_addresses"`
	// Codecs offered to the carrier, in preference order: PCMU, PCMA and
	// opus (any case; Opus as RFC 7587 PT 111); default PCMU, PCMA.
	Codecs []string `yaml:"codecs"`
	// OptionsInterval is the OPTIONS keepalive period in seconds:
	// default 30, negative for none (the trunk then always counts as up).
	OptionsInterval int `yaml:"options_interval"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// Normalize applies the defaults and checks every value; the error names
// the trunk and the key.
func (c *Config) Normalize() error {
	if !nameRE.MatchString(c.Name) {
		return fmt.Errorf("trunk name %q: want letters, digits, '_', '-' or '.'", c.Name)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("trunk %s: %s", c.Name, fmt.Sprintf(format, args...))
	}
	if c.Host == "" || strings.ContainsAny(c.Host, " /;:@") && !isIPv6(c.Host) {
		return bad("host: %q is not a host name or IP address", c.Host)
	}
	c.Transport = strings.ToLower(c.Transport)
	switch c.Transport {
	case "":
		c.Transport = "udp"
	case "udp", "tcp", "tls":
	default:
		return bad("transport: %q: want udp, tcp or tls", c.Transport)
	}
	if c.Port == 0 {
		c.Port = 5060
		if c.Transport == "tls" {
			c.Port = 5061
		}
	}
	if c.Port < 1 || c.Port > 65535 {
		return bad("port: %d out of range 1-65535", c.Port)
	}
	if (c.Username == "") != (c.Password == "") {
		return bad("username and password go together")
	}
	if c.AuthUsername == "" {
		c.AuthUsername = c.Username
	}
	if c.Register && c.Username == "" {
		return bad("register: needs username and password")
	}
	if c.Expires == 0 {
		c.Expires = 600
	}
	if c.Expires < 60 || c.Expires > 86400 {
		return bad("expires: %d out of range 60-86400", c.Expires)
	}
	if c.ContactUser == "" {
		c.ContactUser = c.Username
	}
	if c.ContactUser == "" {
		c.ContactUser = "softswitch"
	}
	if len(c.FromAddresses) == 0 {
		c.FromAddresses = nil // absent and [] are the same to equal
	}
	for _, a := range c.FromAddresses {
		if _, err := parseSource(a); err != nil {
			return fmt.Errorf("trunk %s: from_addresses: %q: want [udp|tcp|tls:]ADDRESS[:PORT] or [udp|tcp|tls:]CIDR: %w", c.Name, a, err)
		}
	}
	if len(c.Codecs) == 0 {
		c.Codecs = []string{"PCMU", "PCMA"}
	}
	for i, name := range c.Codecs {
		switch u := strings.ToUpper(name); u {
		case "PCMU", "PCMA":
			c.Codecs[i] = u
		case "OPUS":
			c.Codecs[i] = "opus"
		default:
			return bad("codecs: %q: trunks carry PCMU, PCMA or opus", name)
		}
	}
	if c.OptionsInterval == 0 {
		c.OptionsInterval = 30
	}
	return nil
}

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return err == nil && a.Is6()
}

// NormalizeAll checks a whole trunks: list, including unique names.
func NormalizeAll(cfgs []Config) error {
	seen := make(map[string]bool, len(cfgs))
	for i := range cfgs {
		if err := cfgs[i].Normalize(); err != nil {
			return err
		}
		if seen[cfgs[i].Name] {
			return fmt.Errorf("trunk %s: defined twice", cfgs[i].Name)
		}
		seen[cfgs[i].Name] = true
	}
	return nil
}

// interval is the keepalive period; 0 when there is none.
func (c *Config) interval() time.Duration {
	if c.OptionsInterval < 0 {
		return 0
	}
	return time.Duration(c.OptionsInterval) * time.Second
}

// equal tells whether two normalized configs are the same: every field,
// so a key added to Config is never missed when a reload compares them.
func (c *Config) equal(o *Config) bool { return reflect.DeepEqual(c, o) }

var errNoTrunk = errors.New("no such trunk")
