package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/softswitch/softswitch/b2bua/auth"
	"github.com/softswitch/softswitch/b2bua/store"
)

const defaultRealm = "softswitch"

var extPattern = regexp.MustCompile(`^[0-9A-Za-z_.+-]{1,32}$`)

var userSubs = map[string]string{
	"add":    "add an extension",
	"passwd": "change an extension's password",
	"del":    "delete an extension",
	"list":   "list the extensions and their registrations",
}

func userCmd(ctx context.Context, args []string, stdout io.Writer) error {
	return userCmdIO(ctx, args, os.Stdin, stdout)
}

// userCmdIO implements `softswitch user add|passwd|del|list`; passwords
// come from --password, stdin (--password-stdin) or a prompt on the
// terminal without echo, else are generated and printed.
func userCmdIO(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	sub, rest, err := subcommand(stdout, "user", userSubs, []string{"add", "passwd", "del", "list"}, args)
	if err != nil {
		return err
	}
	syn, about := "EXT", map[string]string{
		"add":    "Add the extension EXT (letters, digits, _.+-; 1-32). On a terminal the password is asked for without echo; an empty answer, or no terminal, generates one and prints it.",
		"passwd": "Change the password of EXT. On a terminal the password is asked for without echo; an empty answer, or no terminal, generates one and prints it.",
		"del":    "Delete the extension EXT and its registrations.",
		"list":   "List the extensions and their current registrations.",
	}[sub]
	if sub == "list" {
		syn = ""
	}
	c := newCommand(stdout, "user "+sub, syn, about)
	data := c.dataFlag()
	db := c.dbFlag()
	var password, name *string
	var pwStdin *bool
	if sub == "add" || sub == "passwd" {
		password = c.fs.String("password", "", "the password (visible to other users in ps and kept in shell history: prefer --password-stdin or the prompt)")
		pwStdin = c.fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	}
	if sub == "add" {
		name = c.fs.String("name", "", "display name")
	}
	var pos []string
	if syn == "" {
		pos, err = c.parseN(rest)
	} else {
		pos, err = c.parseN(rest, syn)
	}
	if err != nil {
		return err
	}
	var ext string
	if syn != "" {
		ext = pos[0]
		if !extPattern.MatchString(ext) {
			return usageError(fmt.Sprintf("user %s: %q is not a valid extension (letters, digits, _.+- ; 1-32)", sub, ext))
		}
	}
	var pw string
	if password != nil {
		if pw, err = readPassword(*password, *pwStdin, stdin, stdout); err != nil {
			return fmt.Errorf("user %s: %w", sub, err)
		}
	}
	st, err := openExistingStore(ctx, *data, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	realm, err := ensureRealm(ctx, st)
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		pw, generated, err := passwordOrNew(pw)
		if err != nil {
			return err
		}
		if err := addUser(ctx, st, realm, ext, *name, pw); err != nil {
			return err
		}
		if generated {
			fmt.Fprintf(stdout, "added %s, password %s\n", ext, pw)
		} else {
			fmt.Fprintf(stdout, "added %s\n", ext)
		}
	case "passwd":
		pw, generated, err := passwordOrNew(pw)
		if err != nil {
			return err
		}
		md5, sha, err := ha1s(ext, realm, pw)
		if err != nil {
			return err
		}
		if err := st.SetUserHA1(ctx, ext, realm, md5, sha); err != nil {
			return fmt.Errorf("user passwd %s: %w", ext, err)
		}
		tellServer(*data, stdout)
		if generated {
			fmt.Fprintf(stdout, "password of %s changed to %s\n", ext, pw)
		} else {
			fmt.Fprintf(stdout, "password of %s changed\n", ext)
		}
	case "del":
		if err := st.DeleteUser(ctx, ext); err != nil {
			return fmt.Errorf("user del %s: %w", ext, err)
		}
		tellServer(*data, stdout)
		fmt.Fprintf(stdout, "deleted %s\n", ext)
	case "list":
		return listUsers(ctx, st, stdout)
	}
	return nil
}

func listUsers(ctx context.Context, st *store.Store, stdout io.Writer) error {
	users, err := st.Users(ctx)
	if err != nil {
		return fmt.Errorf("user list: %w", err)
	}
	now := time.Now()
	fmt.Fprintf(stdout, "%-10s %-24s %s\n", "EXT", "NAME", "REGISTRATIONS")
	for _, u := range users {
		bs, err := st.BindingsFor(ctx, u.Ext)
		if err != nil {
			return fmt.Errorf("user list: %w", err)
		}
		var regs []string
		for _, b := range bs {
			if b.Expires.After(now) {
				regs = append(regs, fmt.Sprintf("%s via %s from %s (expires in %ds)", b.Contact, b.Transport, b.Source, int(b.Expires.Sub(now).Seconds())))
			}
		}
		if len(regs) == 0 {
			regs = []string{"-"}
		}
		fmt.Fprintf(stdout, "%-10s %-24s %s\n", u.Ext, u.Name, strings.Join(regs, "; "))
	}
	return nil
}

// openExistingStore opens the database of a data directory a server has
// run on (or the PostgreSQL database db names, when not empty): every
// command but serve refuses to create an SQLite one.
func openExistingStore(ctx context.Context, dir, db string) (*store.Store, error) {
	if db != "" {
		return openStore(ctx, dir, dbConfig(db), "")
	}
	if _, err := os.Stat(filepath.Join(dir, "softswitch.db")); err != nil {
		return nil, fmt.Errorf("no softswitch database in %s: run `softswitch serve --data %s` (or `softswitch init --data %s`) first, or pass --data", dir, dir, dir)
	}
	return openStore(ctx, dir, DatabaseConfig{}, "")
}

// dbConfig is the database a --db flag names.
func dbConfig(dsn string) DatabaseConfig {
	if dsn == "" {
		return DatabaseConfig{}
	}
	return DatabaseConfig{Driver: store.DriverPostgres, DSN: dsn}
}

// openStore opens SQLite in dir, or the PostgreSQL database db names;
// node names this process in the CDRs it writes.
func openStore(ctx context.Context, dir string, db DatabaseConfig, node string) (*store.Store, error) {
	if db.Driver == store.DriverPostgres {
		st, err := store.OpenConfig(ctx, store.Config{Driver: store.DriverPostgres, DSN: db.DSN, Node: node})
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return st, nil
	}
	st, err := store.OpenConfig(ctx, store.Config{DSN: filepath.Join(dir, "softswitch.db"), Node: node})
	if err != nil {
		return nil, fmt.Errorf("open database in %s: %w", dir, err)
	}
	return st, nil
}

// ensureRealm returns the database's digest realm, fixing it on first use:
// the stored HA1s are only good for the realm they were computed with.
func ensureRealm(ctx context.Context, st *store.Store) (string, error) {
	r, err := st.Meta(ctx, "realm")
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("read realm: %w", err)
	}
	if err := st.SetMeta(ctx, "realm", defaultRealm); err != nil {
		return "", fmt.Errorf("set realm: %w", err)
	}
	return defaultRealm, nil
}

func ha1s(ext, realm, pw string) (string, string, error) {
	md5, err := auth.HA1(auth.MD5, ext, realm, pw)
	if err != nil {
		return "", "", err
	}
	sha, err := auth.HA1(auth.SHA256, ext, realm, pw)
	if err != nil {
		return "", "", err
	}
	return md5, sha, nil
}

func addUser(ctx context.Context, st *store.Store, realm, ext, name, pw string) error {
	md5, sha, err := ha1s(ext, realm, pw)
	if err != nil {
		return err
	}
	if err := st.AddUser(ctx, store.User{Ext: ext, Name: name, Realm: realm, HA1MD5: md5, HA1SHA256: sha}); err != nil {
		return fmt.Errorf("user add %s: %w", ext, err)
	}
	return nil
}

func passwordOrNew(pw string) (string, bool, error) {
	if pw != "" {
		if len(pw) < 4 || strings.ContainsAny(pw, "\r\n") {
			return "", false, usageError("password: at least 4 characters, one line")
		}
		return pw, false, nil
	}
	p, err := newPassword()
	return p, true, err
}

// newPassword returns 14 random characters without look-alikes.
func newPassword() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 14)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// usersChanged is the control command that makes a running server forget
// the users it has cached.
const usersChanged = "users changed"

// tellServer tells the server running on data, if any, that users changed.
// A server it cannot tell sees the change within its cache's TTL.
func tellServer(data string, stdout io.Writer) {
	if _, err := os.Stat(filepath.Join(data, controlSocket)); err != nil {
		return // no server has run on this data directory
	}
	if _, err := controlCall(data, usersChanged); err != nil {
		fmt.Fprintf(stdout, "note: no running server was told (%v); a running one sees the change within %s\n", err, store.DefaultUserCacheTTL)
	}
}

// initCmd implements `softswitch init [--data DIR]`: create the data
// directory and its database (no extensions), so that `user add` can
// provision before the first `serve`.
func initCmd(ctx context.Context, args []string, stdout io.Writer) error {
	c := newCommand(stdout, "init", "", "Create the data directory and an empty database (no extensions); an existing one is left as is.")
	data := c.dataFlag()
	db := c.dbFlag()
	if _, err := c.parseN(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	st, err := openStore(ctx, *data, dbConfig(*db), "")
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := ensureRealm(ctx, st); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database ready in %s\n", *data)
	return nil
}
