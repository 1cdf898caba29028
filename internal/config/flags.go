package config

import (
	"flag"
	"strings"
)

// ParseAnywhere parses fs from args with flags allowed before, between and
// after the positional arguments (`api --data-dir D token list` and
// `api token list --data-dir D` mean the same), and returns the positional
// arguments in order. After "--" everything is positional.
func ParseAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at the first non-flag or after "--": the "--" case
		// shows as args ending with rest right after a "--".
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// SplitFlags parses from args the flags fs defines, wherever they stand,
// and returns every other argument in order: the subcommand, its
// arguments and its own flags, for the subcommand to parse. A flag fs
// defines takes its value from the next argument unless it is boolean or
// written --name=value. After "--" nothing more is parsed.
func SplitFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var known, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := fs.Lookup(name)
		if f == nil && name != "h" && name != "help" {
			rest = append(rest, a)
			continue
		}
		known = append(known, a)
		if f == nil || hasValue {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			known = append(known, args[i])
		}
	}
	if err := fs.Parse(known); err != nil {
		return nil, err
	}
	return rest, nil
}
