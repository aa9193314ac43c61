package dialplan

import (
	"fmt"
	"strconv"
)

// The prompts call:say_digits and call:say_number play, shipped in
// sounds/ (make-say-prompts.sh): say-0 ... say-19, say-20 ... say-90,
// say-hundred, say-thousand, say-million, say-minus.

// DigitPrompts returns the prompts that speak s digit by digit; s holds
// 1 to 64 digits 0-9.
func DigitPrompts(s string) ([]string, error) {
	if s == "" || len(s) > maxPrompts {
		return nil, fmt.Errorf("want 1 to %d digits, got %d", maxPrompts, len(s))
	}
	out := make([]string, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil, fmt.Errorf("%q: only digits 0-9 can be said", s)
		}
		out = append(out, "say-"+s[i:i+1])
	}
	return out, nil
}

// NumberPrompts returns the prompts that speak n in English, e.g. 1205 as
// say-1 say-thousand say-2 say-hundred say-5. |n| must be below a billion.
func NumberPrompts(n int) []string {
	if n == 0 {
		return []string{"say-0"}
	}
	var out []string
	if n < 0 {
		out = append(out, "say-minus")
		n = -n
	}
	for _, g := range []struct {
		size int
		word string
	}{{1_000_000, "say-million"}, {1000, "say-thousand"}, {1, ""}} {
		if k := n / g.size; k > 0 {
			out = appendHundreds(out, k)
			if g.word != "" {
				out = append(out, g.word)
			}
			n %= g.size
		}
	}
	return out
}

// appendHundreds appends the words for 1 <= n <= 999.
func appendHundreds(out []string, n int) []string {
	if h := n / 100; h > 0 {
		out = append(out, "say-"+strconv.Itoa(h), "say-hundred")
		n %= 100
	}
	switch {
	case n == 0:
	case n < 20:
		out = append(out, "say-"+strconv.Itoa(n))
	default:
		out = append(out, "say-"+strconv.Itoa(n/10*10))
		if n%10 > 0 {
			out = append(out, "say-"+strconv.Itoa(n%10))
		}
	}
	return out
}
