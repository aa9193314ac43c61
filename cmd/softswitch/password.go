package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// maxPasswordLine bounds what is read from stdin for a password.
const maxPasswordLine = 1024

// readPassword returns the password of `user add|passwd`: flag (pw),
// the first line of stdin (fromStdin), or, when stdin is a terminal, a
// prompt without echo. "" means generate one.
func readPassword(pw string, fromStdin bool, stdin io.Reader, stdout io.Writer) (string, error) {
	if pw != "" && fromStdin {
		return "", usageError("--password and --password-stdin exclude each other")
	}
	if pw != "" {
		return pw, nil
	}
	if fromStdin {
		line, err := readLine(stdin)
		if err != nil {
			return "", fmt.Errorf("password from stdin: %w", err)
		}
		if line == "" {
			return "", usageError("--password-stdin: the first line of stdin is empty")
		}
		return line, nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !isTerminal(f) {
		return "", nil
	}
	return promptPassword(f, stdout)
}

// readLine reads one line (at most maxPasswordLine bytes) without its end.
func readLine(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxPasswordLine+1), 64)
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if len(line) > maxPasswordLine {
		return "", fmt.Errorf("longer than %d bytes", maxPasswordLine)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// promptPassword asks twice on the terminal f with echo off (restored
// after); an empty answer means generate one.
func promptPassword(f *os.File, stdout io.Writer) (string, error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", fmt.Errorf("terminal: %w", err)
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return "", fmt.Errorf("terminal: %w", err)
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old) //nolint:errcheck // best effort: nothing else to do
	ask := func(q string) (string, error) {
		fmt.Fprint(stdout, q)
		line, err := readLine(f)
		fmt.Fprintln(stdout)
		return line, err
	}
	pw, err := ask("Password (empty: generate one): ")
	if err != nil || pw == "" {
		return "", err
	}
	again, err := ask("Again: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", errors.New("the passwords differ")
	}
	return pw, nil
}
