package procagent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadOptions are the sources LoadConfig layers over the defaults.
type LoadOptions struct {
	// File is a YAML or JSON config file keyed by key names; "" reads none.
	File string
	// Flags maps flag names (without dashes) to the values the user actually set.
	// Names that are not config flags are ignored: the flag package has already
	// rejected unknown flags, so a caller may pass every flag it saw set.
	Flags map[string]string
	// Getenv looks up an environment variable: os.LookupEnv in production; nil reads none.
	// A variable set to "" counts as set.
	Getenv func(string) (string, bool)
}

// LoadConfig layers flags over environment over file over defaults, strongest
// first, and validates the result. Of a key's environment variables the first
// listed that is set wins. Every value supplied is parsed, shadowed or not: a bad
// one is an error naming the key and the source, as is an unknown key in the file.
// All problems are reported together.
func LoadConfig(opts LoadOptions) (Config, error) {
	var file map[string]configSetting
	if opts.File != "" {
		data, err := os.ReadFile(filepath.Clean(opts.File))
		if err != nil {
			return Config{}, fmt.Errorf("read config file: %w", err)
		}
		if file, err = parseConfigFile(data, opts.File); err != nil {
			return Config{}, err
		}
	}
	c := DefaultConfig()
	c.origins = make(map[string]configOrigin, len(keyTable))
	var errs []error
	for _, k := range keyTable {
		for _, s := range k.settings(file, opts) {
			if err := k.set(&c, s.raw); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w from %s", k.Name, err, s.where))
				continue
			}
			c.origins[k.Name] = s.configOrigin
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// configSetting is one source's raw value for a key.
type configSetting struct {
	raw string
	configOrigin
}

// settings returns the values supplied for k, weakest first.
func (k Key) settings(file map[string]configSetting, opts LoadOptions) []configSetting {
	var out []configSetting
	if s, ok := file[k.Name]; ok {
		out = append(out, s)
	}
	if opts.Getenv != nil {
		for _, name := range k.EnvVars() {
			if v, ok := opts.Getenv(name); ok {
				out = append(out, configSetting{v, configOrigin{source: SourceEnv, envVar: name, where: "env " + name}})
				break
			}
		}
	}
	if v, ok := opts.Flags[k.Flag]; ok {
		out = append(out, configSetting{v, configOrigin{source: SourceFlag, where: "flag -" + k.Flag}})
	}
	return out
}

// parseConfigFile reads a YAML or JSON mapping of key names to scalar values;
// name is the file's name for error messages.
func parseConfigFile(data []byte, name string) (map[string]configSetting, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, nil // empty or only comments
	}
	if err != nil {
		return nil, fmt.Errorf("parse config file %s: %w", name, err)
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse config file %s: want one document, found more", name)
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil // "---" alone
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse config file %s:%d: want a mapping of key names to values", name, root.Line)
	}
	out := make(map[string]configSetting, len(root.Content)/2)
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		kn, vn := root.Content[i], root.Content[i+1]
		where := fmt.Sprintf("file %s:%d", name, kn.Line)
		if _, ok := lookupKey(kn.Value); !ok {
			msg := fmt.Sprintf("%s: unknown key %q", where, kn.Value)
			if s := suggestKey(kn.Value); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, errors.New(msg))
			continue
		}
		if prev, dup := out[kn.Value]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate key from %s (first set at %s)", kn.Value, where, prev.where))
			continue
		}
		if vn.Kind == yaml.AliasNode {
			vn = vn.Alias
		}
		if vn.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("%s: want a single value, not a list or mapping, from %s", kn.Value, where))
			continue
		}
		raw := vn.Value
		if vn.Tag == "!!null" {
			raw = ""
		}
		out[kn.Value] = configSetting{raw, configOrigin{source: SourceFile, where: where}}
	}
	return out, errors.Join(errs...)
}

// suggestKey returns the known key an unknown file key most likely meant, or "".
// It recognises flag spellings, env var names and small typos.
func suggestKey(unknown string) string {
	norm := strings.ToLower(strings.ReplaceAll(unknown, "-", "_"))
	best, bestDist := "", max(2, len(norm)/3)+1
	for _, k := range keyTable {
		if norm == k.Name || slices.ContainsFunc(k.EnvVars(), func(e string) bool { return strings.EqualFold(e, unknown) }) {
			return k.Name
		}
		if d := editDistance(norm, k.Name); d < bestDist {
			best, bestDist = k.Name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
