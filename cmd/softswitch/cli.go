package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// errHelp reports that -h/--help printed a usage: the command succeeded.
var errHelp = errors.New("help printed")

// usageError is a mistake on the command line: exit status 2.
type usageError string

func (e usageError) Error() string { return string(e) }

// command is one leaf command: its flags, synopsis and description, for
// parsing and for -h/--help (printed to stdout).
type command struct {
	name     string // "user add"
	synopsis string // positional arguments, "EXT"
	about    string
	fs       *flag.FlagSet
	stdout   io.Writer
}

func newCommand(stdout io.Writer, name, synopsis, about string) *command {
	c := &command{name: name, synopsis: synopsis, about: about, stdout: stdout,
		fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.fs.SetOutput(io.Discard)
	return c
}

// dataFlag adds the --data flag every command but serve and dialplan has.
func (c *command) dataFlag() *string {
	return c.fs.String("data", "./data", "data directory of the softswitch (the one serve --data uses)")
}

// dbFlag adds the --db flag of the commands that read or change the
// database: a PostgreSQL DSN (default $SOFTSWITCH_DB) for nodes that share
// one; empty means SQLite in --data.
func (c *command) dbFlag() *string {
	return c.fs.String("db", os.Getenv("SOFTSWITCH_DB"), "PostgreSQL connection string of a shared database (default $SOFTSWITCH_DB); empty: SQLite in --data")
}

func (c *command) usage() {
	w := c.stdout
	syn := "[flags]"
	if c.synopsis != "" {
		syn = c.synopsis + " [flags]"
	}
	fmt.Fprintf(w, "usage: softswitch %s %s\n\n%s\n", c.name, syn, c.about)
	n := 0
	c.fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "\nflags (-x or --x, before or after the arguments):")
	c.fs.SetOutput(w)
	c.fs.PrintDefaults()
	c.fs.SetOutput(io.Discard)
}

// parse parses flags placed before, between or after the positional
// arguments (those after "--" are all positional) and returns the
// positionals. -h/--help prints the usage and returns errHelp.
func (c *command) parse(args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 { // every round consumes at least one argument
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.usage()
				return nil, errHelp
			}
			return nil, usageError(fmt.Sprintf("%s: %v (see softswitch %s --help)", c.name, err, c.name))
		}
		rest := c.fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return pos, nil
}

// parseN parses and wants exactly the positionals named in want.
func (c *command) parseN(args []string, want ...string) ([]string, error) {
	pos, err := c.parse(args)
	if err != nil {
		return nil, err
	}
	if len(pos) < len(want) {
		return nil, usageError(fmt.Sprintf("%s: missing %s (see softswitch %s --help)", c.name, want[len(pos)], c.name))
	}
	if len(pos) > len(want) {
		return nil, usageError(fmt.Sprintf("%s: unexpected argument %q", c.name, pos[len(want)]))
	}
	return pos, nil
}

// subcommand picks a group's subcommand: "user add ..." gives "add" and the
// rest. A missing or unknown one is a usage error naming the choices;
// -h/--help lists them.
func subcommand(stdout io.Writer, group string, subs map[string]string, order []string, args []string) (string, []string, error) {
	choices := strings.Join(order, ", ")
	if len(args) == 0 {
		return "", nil, usageError(fmt.Sprintf("%s: missing subcommand (want %s)", group, choices))
	}
	switch a := args[0]; {
	case a == "-h" || a == "--help" || a == "-help" || a == "help":
		fmt.Fprintf(stdout, "usage: softswitch %s SUBCOMMAND [flags]\n\nsubcommands:\n", group)
		for _, s := range order {
			fmt.Fprintf(stdout, "  %-8s %s\n", s, subs[s])
		}
		fmt.Fprintf(stdout, "\nsoftswitch %s SUBCOMMAND --help shows its flags.\n", group)
		return "", nil, errHelp
	case subs[a] == "":
		return "", nil, usageError(fmt.Sprintf("%s: unknown subcommand %q (want %s)", group, a, choices))
	}
	return args[0], args[1:], nil
}
