package testenv

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	collmetricsv1 "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltracev1 "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	metricsv1 "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Point is one data point the collector received, flattened with its metric and resource.
type Point struct {
	Name       string
	Kind       string // "gauge", "sum", "histogram", "exponential_histogram" or "summary"
	Unit       string
	Resource   map[string]string
	Scope      string
	Attributes map[string]string
	// Value is a gauge's or sum's value, and a histogram's or summary's sum.
	Value float64
	// Count is a histogram's or summary's count; 0 for gauges and sums.
	Count uint64
	Time  time.Time
}

// Span is one span the collector received, flattened with its resource.
type Span struct {
	Name         string
	TraceID      string // lowercase hex, as OTLP JSON writes it
	SpanID       string
	ParentSpanID string // "" for a root span
	Kind         string // "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", ...
	Resource     map[string]string
	Scope        string
	Attributes   map[string]string
	Events       []Event
	Status       Status
	Start, End   time.Time
}

// Event is a span event.
type Event struct {
	Name       string
	Time       time.Time
	Attributes map[string]string
}

// Status is a span status; Code is "Unset", "Ok" or "Error", as go.opentelemetry.io/otel/codes
// prints its codes.
type Status struct {
	Code    string
	Message string
}

var jsonOpts = protojson.UnmarshalOptions{DiscardUnknown: true}

// lines splits data into complete lines, dropping a last line without its newline: the
// collector may be halfway through writing it.
func lines(data []byte) [][]byte {
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	} else {
		return nil
	}
	var out [][]byte
	for l := range bytes.SplitSeq(data, []byte{'\n'}) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// parseMetrics parses lines of OTLP JSON ExportMetricsServiceRequests into points.
func parseMetrics(data []byte) ([]Point, error) {
	var points []Point
	for i, l := range lines(data) {
		var req collmetricsv1.ExportMetricsServiceRequest
		if err := jsonOpts.Unmarshal(l, &req); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		for _, rm := range req.GetResourceMetrics() {
			res := attrMap(rm.GetResource().GetAttributes())
			for _, sm := range rm.GetScopeMetrics() {
				for _, m := range sm.GetMetrics() {
					base := Point{Name: m.GetName(), Unit: m.GetUnit(), Resource: res, Scope: sm.GetScope().GetName()}
					points = appendPoints(points, base, m)
				}
			}
		}
	}
	return points, nil
}

// appendPoints appends m's data points, each a copy of base with its own values.
func appendPoints(points []Point, base Point, m *metricsv1.Metric) []Point {
	number := func(kind string, dps []*metricsv1.NumberDataPoint) {
		for _, dp := range dps {
			p := base
			p.Kind = kind
			p.Attributes = attrMap(dp.GetAttributes())
			p.Time = unixNano(dp.GetTimeUnixNano())
			switch v := dp.GetValue().(type) {
			case *metricsv1.NumberDataPoint_AsDouble:
				p.Value = v.AsDouble
			case *metricsv1.NumberDataPoint_AsInt:
				p.Value = float64(v.AsInt)
			}
			points = append(points, p)
		}
	}
	summed := func(kind string, attrs []*commonv1.KeyValue, t uint64, count uint64, sum float64) {
		p := base
		p.Kind = kind
		p.Attributes = attrMap(attrs)
		p.Time = unixNano(t)
		p.Count = count
		p.Value = sum
		points = append(points, p)
	}
	switch d := m.GetData().(type) {
	case *metricsv1.Metric_Gauge:
		number("gauge", d.Gauge.GetDataPoints())
	case *metricsv1.Metric_Sum:
		number("sum", d.Sum.GetDataPoints())
	case *metricsv1.Metric_Histogram:
		for _, dp := range d.Histogram.GetDataPoints() {
			summed("histogram", dp.GetAttributes(), dp.GetTimeUnixNano(), dp.GetCount(), dp.GetSum())
		}
	case *metricsv1.Metric_ExponentialHistogram:
		for _, dp := range d.ExponentialHistogram.GetDataPoints() {
			summed("exponential_histogram", dp.GetAttributes(), dp.GetTimeUnixNano(), dp.GetCount(), dp.GetSum())
		}
	case *metricsv1.Metric_Summary:
		for _, dp := range d.Summary.GetDataPoints() {
			summed("summary", dp.GetAttributes(), dp.GetTimeUnixNano(), dp.GetCount(), dp.GetSum())
		}
	}
	return points
}

// parseSpans parses lines of OTLP JSON ExportTraceServiceRequests into spans.
func parseSpans(data []byte) ([]Span, error) {
	var spans []Span
	for i, l := range lines(data) {
		var req colltracev1.ExportTraceServiceRequest
		if err := jsonOpts.Unmarshal(l, &req); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		for _, rs := range req.GetResourceSpans() {
			res := attrMap(rs.GetResource().GetAttributes())
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					spans = append(spans, flattenSpan(s, res, ss.GetScope().GetName()))
				}
			}
		}
	}
	return spans, nil
}

func flattenSpan(s *tracev1.Span, res map[string]string, scope string) Span {
	out := Span{
		Name:         s.GetName(),
		TraceID:      jsonHexID(s.GetTraceId()),
		SpanID:       jsonHexID(s.GetSpanId()),
		ParentSpanID: jsonHexID(s.GetParentSpanId()),
		Kind:         s.GetKind().String(),
		Resource:     res,
		Scope:        scope,
		Attributes:   attrMap(s.GetAttributes()),
		Status:       Status{Code: statusCode(s.GetStatus().GetCode()), Message: s.GetStatus().GetMessage()},
		Start:        unixNano(s.GetStartTimeUnixNano()),
		End:          unixNano(s.GetEndTimeUnixNano()),
	}
	for _, e := range s.GetEvents() {
		out.Events = append(out.Events, Event{
			Name:       e.GetName(),
			Time:       unixNano(e.GetTimeUnixNano()),
			Attributes: attrMap(e.GetAttributes()),
		})
	}
	return out
}

// jsonHexID undoes a mismatch: OTLP JSON writes trace and span ids as hex, protojson reads
// bytes fields as base64. Hex digits are base64 digits and the ids' 32 and 16 hex digits
// are whole base64 quanta, so protojson decodes them without error into other bytes, and
// encoding those bytes back as base64 restores the hex text exactly.
func jsonHexID(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

func statusCode(c tracev1.Status_StatusCode) string {
	switch c {
	case tracev1.Status_STATUS_CODE_OK:
		return "Ok"
	case tracev1.Status_STATUS_CODE_ERROR:
		return "Error"
	default:
		return "Unset"
	}
}

func unixNano(ns uint64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(ns)) //nolint:gosec // G115: OTLP times are nanoseconds since 1970, far below 2^63
}

// attrMap flattens attributes into strings; see anyString.
func attrMap(kvs []*commonv1.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = anyString(kv.GetValue())
	}
	return m
}

// anyString prints an attribute value: strings as they are, numbers and booleans as Go's
// strconv prints them, bytes as base64, arrays as [a,b] and maps as {k=v,...}.
func anyString(v *commonv1.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonv1.AnyValue_StringValue:
		return x.StringValue
	case *commonv1.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *commonv1.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonv1.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	case *commonv1.AnyValue_BytesValue:
		return base64.StdEncoding.EncodeToString(x.BytesValue)
	case *commonv1.AnyValue_ArrayValue:
		parts := make([]string, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			parts = append(parts, anyString(e))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *commonv1.AnyValue_KvlistValue:
		parts := make([]string, 0, len(x.KvlistValue.GetValues()))
		for _, kv := range x.KvlistValue.GetValues() {
			parts = append(parts, kv.GetKey()+"="+anyString(kv.GetValue()))
		}
		return "{" + strings.Join(parts, ",") + "}"
	default:
		return ""
	}
}
