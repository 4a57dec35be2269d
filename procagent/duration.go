package procagent

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// parseDuration reads a duration setting in any of three forms:
//
//   - a bare number of seconds, "90" or "0.5" (the HYPERACTOR_* variables
//     are often given that way);
//   - a Go duration, "1m30s", "250ms" or "-1s";
//   - humantime's form, which Monarch's configuration reads: numbers with
//     units, "1min", "2hours", "1h 30m", "1day", "500ms", the items run
//     together or separated by spaces or '+' (parseHumantime).
//
// A negative value is parsed (Validate rejects it); anything else is an
// error quoting raw.
func parseDuration(raw string) (time.Duration, error) {
	s := strings.TrimSpace(raw)
	if isDecimal(s) {
		s += "s"
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	if d, ok := parseHumantime(s); ok {
		return d, nil
	}
	return 0, fmt.Errorf("invalid duration %q", raw)
}

// isDecimal reports whether s is an optionally signed decimal number such as 30, -1 or 0.5.
func isDecimal(s string) bool {
	s = strings.TrimLeft(s, "+-")
	digits := strings.Trim(s, "0123456789.")
	return s != "" && digits == "" && strings.Count(s, ".") <= 1 && s != "."
}

// humanUnits are humantime's units: a month is 30.44 days and a year
// 365.25 days, as humantime counts them.
var humanUnits = map[string]time.Duration{
	"nanos": time.Nanosecond, "nsec": time.Nanosecond, "ns": time.Nanosecond,
	"usec": time.Microsecond, "us": time.Microsecond, "µs": time.Microsecond, "μs": time.Microsecond,
	"millis": time.Millisecond, "msec": time.Millisecond, "ms": time.Millisecond,
	"seconds": time.Second, "second": time.Second, "secs": time.Second, "sec": time.Second, "s": time.Second,
	"minutes": time.Minute, "minute": time.Minute, "mins": time.Minute, "min": time.Minute, "m": time.Minute,
	"hours": time.Hour, "hour": time.Hour, "hrs": time.Hour, "hr": time.Hour, "h": time.Hour,
	"days": 24 * time.Hour, "day": 24 * time.Hour, "d": 24 * time.Hour,
	"weeks": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "w": 7 * 24 * time.Hour,
	"months": 2_630_016 * time.Second, "month": 2_630_016 * time.Second, "M": 2_630_016 * time.Second,
	"years": 31_557_600 * time.Second, "year": 31_557_600 * time.Second, "y": 31_557_600 * time.Second,
}

// parseHumantime reads a sum of items, each a non-negative number (a
// fraction is allowed, which humantime itself refuses), optional spaces
// and a unit of humanUnits; the items may run together ("1h30m") or be
// separated by spaces or '+'. It reports false for anything else,
// including a sum past the range of a time.Duration.
func parseHumantime(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var total time.Duration
	for s != "" {
		num, rest := cutNumber(s)
		unit, rest := cutUnit(strings.TrimLeftFunc(rest, unicode.IsSpace))
		scale, ok := humanUnits[unit]
		if !ok {
			return 0, false
		}
		d, ok := scaleNumber(num, scale)
		if !ok || d > math.MaxInt64-total {
			return 0, false
		}
		total += d
		s = strings.TrimLeftFunc(rest, func(r rune) bool { return r == '+' || unicode.IsSpace(r) })
	}
	return total, true
}

// cutNumber splits s after its leading digits, with at most one '.'.
func cutNumber(s string) (num, rest string) {
	dot := false
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c == '.' && !dot {
			dot = true
		} else if c < '0' || c > '9' {
			break
		}
	}
	return s[:i], s[i:]
}

// cutUnit splits s after its leading letters.
func cutUnit(s string) (unit, rest string) {
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// scaleNumber returns num (digits with at most one '.', at least one
// digit) times scale, or false when num is not a number or the product
// overflows.
func scaleNumber(num string, scale time.Duration) (time.Duration, bool) {
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" && frac == "" {
		return 0, false
	}
	var d time.Duration
	if whole != "" {
		w, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || w > int64(math.MaxInt64/scale) {
			return 0, false
		}
		d = time.Duration(w) * scale
	}
	if frac != "" {
		f, err := strconv.ParseFloat("0."+frac, 64)
		if err != nil {
			return 0, false
		}
		fd := time.Duration(math.Round(f * float64(scale)))
		if fd > math.MaxInt64-d {
			return 0, false
		}
		d += fd
	}
	return d, true
}
