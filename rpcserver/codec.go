package rpcserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/procagent/procagent/procagent"
)

// jsonCodecOptions replace connect-go's JSON codecs, under both of the
// names it registers them, with jsonCodec.
func jsonCodecOptions() []connect.HandlerOption {
	return []connect.HandlerOption{
		connect.WithCodec(jsonCodec{name: "json"}),
		connect.WithCodec(jsonCodec{name: "json; charset=utf-8"}),
	}
}

// jsonCodec is the server's JSON codec: protojson, as connect-go's own,
// and like it ignoring unknown fields, so that clients and servers need
// not share one version of the schema. Unlike it, an enum value given by a
// name the schema does not know is an error naming the value (connect-go
// drops it, so "minStatus": "STATUS_BOGUS" would read as
// STATUS_UNSPECIFIED and be reported as that); connect-go answers an
// Unmarshal error with InvalidArgument. An enum value given as a number is
// kept, as protojson keeps it, for the handler to judge.
type jsonCodec struct{ name string }

var _ connect.Codec = jsonCodec{}

// Name is the codec's name: the content subtype it serves.
func (c jsonCodec) Name() string { return c.name }

// Marshal writes message as protojson does.
func (c jsonCodec) Marshal(message any) ([]byte, error) {
	m, ok := message.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%T is not a protobuf message", message)
	}
	return protojson.Marshal(m)
}

// Unmarshal reads data into message. The strict reading fails on an
// unknown field as on an unknown enum name: only then are the lenient one
// and the walk that tells the two apart needed.
func (c jsonCodec) Unmarshal(data []byte, message any) error {
	m, ok := message.(proto.Message)
	if !ok {
		return fmt.Errorf("%T is not a protobuf message", message)
	}
	if len(data) == 0 {
		return errors.New("zero-length payload is not a valid JSON object")
	}
	if err := protojson.Unmarshal(data, m); err == nil {
		return nil
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		return errors.New(clip(err.Error()))
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil // protojson read it; nothing to add
	}
	return unknownEnum(m.ProtoReflect().Descriptor(), doc, "")
}

// unknownEnum walks a JSON document against the message it was read into
// and returns an error for the first enum name (in field order) that md
// does not know; unknown fields are skipped.
func unknownEnum(md protoreflect.MessageDescriptor, doc any, path string) error {
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	fields := md.Fields()
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		fd := fields.ByJSONName(key)
		if fd == nil {
			fd = fields.ByTextName(key)
		}
		if fd == nil {
			continue // an unknown field, ignored
		}
		if err := unknownEnumInField(fd, obj[key], joinPath(path, key)); err != nil {
			return err
		}
	}
	return nil
}

// unknownEnumInField checks the value of one field: a map, a list or one
// value.
func unknownEnumInField(fd protoreflect.FieldDescriptor, v any, path string) error {
	switch {
	case fd.IsMap():
		obj, _ := v.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if err := unknownEnumInValue(fd.MapValue(), obj[k], fmt.Sprintf("%s[%q]", path, k)); err != nil {
				return err
			}
		}
	case fd.IsList():
		list, _ := v.([]any)
		for i, e := range list {
			if err := unknownEnumInValue(fd, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	default:
		return unknownEnumInValue(fd, v, path)
	}
	return nil
}

// unknownEnumInValue checks one value of a field's kind. The error lists
// the enum's names but its zero value, which by the schema's convention
// means "not given".
func unknownEnumInValue(fd protoreflect.FieldDescriptor, v any, path string) error {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		name, ok := v.(string)
		if !ok {
			return nil
		}
		ed := fd.Enum()
		if ed.Values().ByName(protoreflect.Name(name)) != nil {
			return nil
		}
		var known []string
		for i := range ed.Values().Len() {
			if v := ed.Values().Get(i); v.Number() != 0 {
				known = append(known, string(v.Name()))
			}
		}
		return fmt.Errorf("%s: unknown %s value %s: want one of %s", path, ed.FullName(), procagent.Quote(name), strings.Join(known, ", "))
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if fd.Message().FullName().Parent() == "google.protobuf" {
			return nil // the well-known types have JSON forms of their own
		}
		return unknownEnum(fd.Message(), v, path)
	}
	return nil
}

// joinPath names a field under path, as "overlay.runs".
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// maxErrorBytes bounds a codec error's message: protojson quotes the bad
// value whole, and a request may hold a huge one.
const maxErrorBytes = 512

// clip cuts msg past maxErrorBytes, at a character boundary, and says how
// long it was.
func clip(msg string) string {
	if len(msg) <= maxErrorBytes {
		return msg
	}
	cut := maxErrorBytes
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", msg[:cut], len(msg))
}
