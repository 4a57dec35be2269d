package dashgen

import (
	"fmt"
	"strconv"
	"strings"
)

// This file is a small PromQL scanner for the tests: enough of the language to find every
// vector selector of an expression, its matchers, its range and the calls around it. The
// Prometheus parser lives in a module whose requirements would upgrade half of this
// module's graph; the live test has a real Prometheus parse and evaluate every query anyway.

// selector is one vector selector of an expression and where it sits.
type selector struct {
	metric   string
	matchers []matcher
	rng      string  // the range of a matrix selector; "" for an instant vector
	calls    []*call // the calls, aggregations and parentheses around it, outermost first
}

// matcher is one label matcher, its value unquoted.
type matcher struct{ name, op, value string }

// call is a function call, an aggregation (with its grouping) or plain parentheses (name "").
type call struct {
	name    string
	by      []string
	without bool
}

// hasRegex reports whether the selector carries the matcher name=~"value".
func (s selector) hasRegex(name, value string) bool {
	for _, m := range s.matchers {
		if m.name == name && m.op == "=~" && m.value == value {
			return true
		}
	}
	return false
}

// innermost returns the innermost enclosing call that is not plain parentheses, or nil.
func (s selector) innermost() *call {
	for i := len(s.calls) - 1; i >= 0; i-- {
		if s.calls[i].name != "" {
			return s.calls[i]
		}
	}
	return nil
}

// aggregations are PromQL's aggregation operators.
var aggregations = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true,
	"stdvar": true, "count": true, "count_values": true, "bottomk": true, "topk": true,
	"quantile": true, "limitk": true, "limit_ratio": true,
}

// keywords are identifiers that are neither metric names nor functions.
var keywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
	"group_right": true, "bool": true, "and": true, "or": true, "unless": true,
	"offset": true, "atan2": true,
}

type tokKind int

const (
	tIdent tokKind = iota
	tString
	tNumber
	tPunct // ( ) { } [ ] ,
	tOp
	tRange // the raw text between [ and ]
)

type tok struct {
	kind tokKind
	text string
}

// lexPromQL splits an expression into tokens; a [...] becomes one tRange token.
func lexPromQL(s string) ([]tok, error) {
	var toks []tok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#': // a comment runs to the end of the line
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			toks = append(toks, tok{tIdent, s[i:j]})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && (isIdentChar(s[j]) || s[j] == '.' ||
				(s[j] == '+' || s[j] == '-') && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			toks = append(toks, tok{tNumber, s[i:j]})
			i = j
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			v, err := unquote(s[i : j+1])
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok{tString, v})
			i = j + 1
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed [ at %d", i)
			}
			toks = append(toks, tok{tRange, strings.TrimSpace(s[i+1 : i+j])})
			i += j + 1
		case strings.ContainsRune("(){},", rune(c)):
			toks = append(toks, tok{tPunct, string(c)})
			i++
		default:
			op := ""
			for _, o := range []string{"==", "!=", "<=", ">=", "=~", "!~", "+", "-", "*", "/", "%", "^", "<", ">", "=", "@"} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected %q at %d", c, i)
			}
			toks = append(toks, tok{tOp, op})
			i += len(op)
		}
	}
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '$'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// unquote reads a PromQL string literal (Go's rules for "…", '…' and `…`).
func unquote(lit string) (string, error) {
	if lit[0] == '\'' {
		lit = `"` + strings.ReplaceAll(strings.ReplaceAll(lit[1:len(lit)-1], `\'`, `'`), `"`, `\"`) + `"`
	}
	return strconv.Unquote(lit)
}

// scanPromQL returns the vector selectors of expr.
func scanPromQL(expr string) ([]selector, error) {
	toks, err := lexPromQL(expr)
	if err != nil {
		return nil, fmt.Errorf("scan %q: %w", expr, err)
	}
	sc := &scanner{toks: toks}
	if err := sc.run(); err != nil {
		return nil, fmt.Errorf("scan %q: %w", expr, err)
	}
	return sc.sels, nil
}

type scanner struct {
	toks       []tok
	i          int
	stack      []*call
	lastClosed *call
	pending    *call // an aggregation whose grouping came before its (
	sels       []selector
}

func (sc *scanner) peek(off int) (tok, bool) {
	if sc.i+off < len(sc.toks) {
		return sc.toks[sc.i+off], true
	}
	return tok{}, false
}

func (sc *scanner) isPunct(off int, p string) bool {
	t, ok := sc.peek(off)
	return ok && t.kind == tPunct && t.text == p
}

func (sc *scanner) run() error {
	for sc.i < len(sc.toks) {
		t := sc.toks[sc.i]
		switch {
		case t.kind == tIdent && (t.text == "by" || t.text == "without"):
			labels, err := sc.labelList(1)
			if err != nil {
				return err
			}
			target := sc.lastClosed
			if sc.pending != nil {
				target = sc.pending
			}
			if target == nil || !aggregations[target.name] {
				return fmt.Errorf("%s outside an aggregation", t.text)
			}
			target.by, target.without = labels, t.text == "without"
		case t.kind == tIdent && (t.text == "on" || t.text == "ignoring" || t.text == "group_left" || t.text == "group_right"):
			if sc.isPunct(1, "(") {
				if _, err := sc.labelList(1); err != nil {
					return err
				}
				continue
			}
			sc.i++
		case t.kind == tIdent && t.text == "offset":
			sc.i += 2
		case t.kind == tIdent && keywords[t.text]:
			sc.i++
		case t.kind == tIdent && aggregations[t.text] && !sc.isPunct(1, "("):
			sc.pending = &call{name: t.text}
			sc.i++
		case t.kind == tIdent && sc.isPunct(1, "("):
			sc.push(&call{name: t.text})
			sc.i += 2
		case t.kind == tIdent:
			if err := sc.selector(t.text); err != nil {
				return err
			}
		case t.kind == tPunct && t.text == "{":
			if err := sc.selector(""); err != nil {
				return err
			}
		case t.kind == tPunct && t.text == "(":
			if sc.pending != nil {
				sc.push(sc.pending)
				sc.pending = nil
			} else {
				sc.push(&call{})
			}
			sc.i++
		case t.kind == tPunct && t.text == ")":
			if len(sc.stack) == 0 {
				return fmt.Errorf("unbalanced )")
			}
			sc.lastClosed = sc.stack[len(sc.stack)-1]
			sc.stack = sc.stack[:len(sc.stack)-1]
			sc.i++
		default: // numbers, strings, operators, commas, subquery ranges
			sc.i++
		}
	}
	if len(sc.stack) > 0 || sc.pending != nil {
		return fmt.Errorf("unbalanced (")
	}
	return nil
}

func (sc *scanner) push(c *call) {
	sc.stack = append(sc.stack, c)
	sc.lastClosed = nil
}

// labelList reads "(a, b, …)" starting off tokens ahead and moves past it.
func (sc *scanner) labelList(off int) ([]string, error) {
	sc.i += off
	if !sc.isPunct(0, "(") {
		return nil, fmt.Errorf("want ( after a grouping keyword")
	}
	sc.i++
	var labels []string
	for {
		t, ok := sc.peek(0)
		if !ok {
			return nil, fmt.Errorf("unclosed label list")
		}
		sc.i++
		switch {
		case t.kind == tPunct && t.text == ")":
			return labels, nil
		case t.kind == tIdent:
			labels = append(labels, t.text)
		case t.kind == tPunct && t.text == ",":
		default:
			return nil, fmt.Errorf("unexpected %q in a label list", t.text)
		}
	}
}

// selector reads a vector selector (name, then optional {matchers}, then optional [range]).
func (sc *scanner) selector(name string) error {
	s := selector{metric: name, calls: append([]*call(nil), sc.stack...)}
	if name != "" {
		sc.i++
	}
	if sc.isPunct(0, "{") {
		sc.i++
		for !sc.isPunct(0, "}") {
			l, ok1 := sc.peek(0)
			o, ok2 := sc.peek(1)
			v, ok3 := sc.peek(2)
			if !ok1 || !ok2 || !ok3 || l.kind != tIdent || o.kind != tOp || v.kind != tString {
				return fmt.Errorf("bad matcher in the selector of %q", name)
			}
			s.matchers = append(s.matchers, matcher{l.text, o.text, v.text})
			sc.i += 3
			if sc.isPunct(0, ",") {
				sc.i++
			}
		}
		sc.i++
	}
	if s.metric == "" {
		for _, m := range s.matchers {
			if m.name == "__name__" && m.op == "=" {
				s.metric = m.value
			}
		}
	}
	if t, ok := sc.peek(0); ok && t.kind == tRange {
		s.rng = t.text
		sc.i++
	}
	sc.sels = append(sc.sels, s)
	return nil
}
