package telemetry

import (
	"context"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	collmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
)

// otlpSink is an in-process OTLP/gRPC receiver on loopback: it keeps every
// metric and span export it is sent.
type otlpSink struct {
	endpoint string // http://127.0.0.1:port

	mu      sync.Mutex
	metrics []*metricspb.ResourceMetrics
	spans   []*tracepb.ResourceSpans
}

type sinkMetrics struct {
	collmetricspb.UnimplementedMetricsServiceServer
	s *otlpSink
}

// Export implements the OTLP metrics service.
func (m sinkMetrics) Export(_ context.Context, req *collmetricspb.ExportMetricsServiceRequest) (*collmetricspb.ExportMetricsServiceResponse, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	m.s.metrics = append(m.s.metrics, req.GetResourceMetrics()...)
	return &collmetricspb.ExportMetricsServiceResponse{}, nil
}

type sinkTraces struct {
	colltracepb.UnimplementedTraceServiceServer
	s *otlpSink
}

// Export implements the OTLP trace service.
func (t sinkTraces) Export(_ context.Context, req *colltracepb.ExportTraceServiceRequest) (*colltracepb.ExportTraceServiceResponse, error) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	t.s.spans = append(t.s.spans, req.GetResourceSpans()...)
	return &colltracepb.ExportTraceServiceResponse{}, nil
}

// startOTLPSink serves a sink until the test ends (after the fixtures made
// later are shut down, so their final exports arrive).
func startOTLPSink(t testing.TB) *otlpSink {
	t.Helper()
	lis, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &otlpSink{endpoint: "http://" + lis.Addr().String()}
	srv := grpc.NewServer()
	collmetricspb.RegisterMetricsServiceServer(srv, sinkMetrics{s: s})
	colltracepb.RegisterTraceServiceServer(srv, sinkTraces{s: s})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return s
}

// point is one metric data point as received.
type point struct {
	resource map[string]string
	attrs    map[string]string
	value    float64
	sum      bool // from a Sum (counter), not a Gauge
}

// points returns every data point received for the metric name, oldest
// first (histograms excepted).
func (s *otlpSink) points(name string) []point {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []point
	for _, rm := range s.metrics {
		res := attrMap(rm.GetResource().GetAttributes())
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() != name {
					continue
				}
				dps, sum := m.GetGauge().GetDataPoints(), false
				if m.GetSum() != nil {
					dps, sum = m.GetSum().GetDataPoints(), true
				}
				for _, dp := range dps {
					v := dp.GetAsDouble()
					if _, ok := dp.GetValue().(*metricspb.NumberDataPoint_AsInt); ok {
						v = float64(dp.GetAsInt())
					}
					out = append(out, point{resource: res, attrs: attrMap(dp.GetAttributes()), value: v, sum: sum})
				}
			}
		}
	}
	return out
}

// histogramCount returns the newest count of histogram name whose
// attributes include attrs, and whether its buckets add up to it.
func (s *otlpSink) histogramCount(name string, attrs map[string]string) (count uint64, consistent, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rm := range s.metrics {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() != name || m.GetHistogram() == nil {
					continue
				}
				for _, dp := range m.GetHistogram().GetDataPoints() {
					if !includes(attrMap(dp.GetAttributes()), attrs) {
						continue
					}
					var total uint64
					for _, c := range dp.GetBucketCounts() {
						total += c
					}
					count, consistent, ok = dp.GetCount(), total == dp.GetCount() &&
						len(dp.GetBucketCounts()) == len(dp.GetExplicitBounds())+1 &&
						m.GetHistogram().GetAggregationTemporality() == metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE, true
				}
			}
		}
	}
	return count, consistent, ok
}

// names returns the metric names received.
func (s *otlpSink) names() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for _, rm := range s.metrics {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				out[m.GetName()] = true
			}
		}
	}
	return out
}

// last returns the newest value of name whose attributes include attrs.
func (s *otlpSink) last(name string, attrs map[string]string) (float64, bool) {
	pts := s.points(name)
	for i := len(pts) - 1; i >= 0; i-- {
		if includes(pts[i].attrs, attrs) {
			return pts[i].value, true
		}
	}
	return 0, false
}

// allSpans returns every span received.
func (s *otlpSink) allSpans() []*tracepb.Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*tracepb.Span
	for _, rs := range s.spans {
		for _, ss := range rs.GetScopeSpans() {
			out = append(out, ss.GetSpans()...)
		}
	}
	return out
}

// span returns the span called name whose attributes include attrs.
func (s *otlpSink) span(t testing.TB, name string, attrs map[string]string) *tracepb.Span {
	t.Helper()
	for _, sp := range s.allSpans() {
		if sp.GetName() == name && includes(attrMap(sp.GetAttributes()), attrs) {
			return sp
		}
	}
	t.Fatalf("no span %s%v received", name, attrs)
	return nil
}

func attrMap(kvs []*commonpb.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = x.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.GetKey()] = strconv.FormatInt(x.IntValue, 10)
		case *commonpb.AnyValue_BoolValue:
			out[kv.GetKey()] = strconv.FormatBool(x.BoolValue)
		default:
			out[kv.GetKey()] = v.String()
		}
	}
	return out
}

func includes(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func TestOTLPExport(t *testing.T) {
	needPython(t)
	sink := startOTLPSink(t)
	f := newFixture(t, Options{OTLPEndpoint: sink.endpoint, ExportInterval: time.Hour, ServiceVersion: "v1.2.3"})
	exercise(t, f, true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.tel.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}

	t.Run("resource", func(t *testing.T) {
		pts := sink.points(mQueueDepth.OTel)
		if len(pts) == 0 {
			t.Fatal("no queue depth received")
		}
		res := pts[0].resource
		want := map[string]string{
			"service.name": DefaultServiceName, "service.version": "v1.2.3", "service.instance.id": "testproc",
			"procagent.proc.id": "testproc", "process.pid": strconv.Itoa(os.Getpid()),
		}
		if !includes(res, want) || res["host.name"] == "" {
			t.Errorf("resource %v, want %v and host.name", res, want)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		for _, c := range []struct {
			name  string
			attrs map[string]string
			want  float64
		}{
			{mQueueDepth.OTel, nil, 3},
			{mActorQueueDepth.OTel, map[string]string{labelActor: "s1", labelActorType: "sleep"}, 3},
			{mActorQueueOmitted.OTel, nil, 0},
			{mPoisoned.OTel, nil, 1},
			{mFailedActors.OTel, nil, 2},
			{mActors.OTel, map[string]string{labelStatus: "FAILED"}, 3},
			{mSpawns.OTel, map[string]string{labelError: "true"}, 1},
			{mStops.OTel, nil, 2},
			{mSupervision.OTel, map[string]string{labelStatus: "FAILED", labelError: "true"}, 2},
			{mSupervision.OTel, map[string]string{labelStatus: "STOPPED", labelError: "false"}, 2},
			{mMessagesHandled.OTel, map[string]string{labelActorType: "echo", labelError: "false"}, 1},
			{mBuildInfo.OTel, map[string]string{labelVersion: "v1.2.3", labelGoVersion: goVersion()}, 1},
			{mMemoryUsage.OTel, map[string]string{"actor": "", "pid": strconv.Itoa(os.Getpid()), "proc_id": "testproc"}, -1},
		} {
			got, ok := sink.last(c.name, c.attrs)
			switch {
			case !ok:
				t.Errorf("%s%v not received", c.name, c.attrs)
			case c.want >= 0 && got != c.want:
				t.Errorf("%s%v = %v, want %v", c.name, c.attrs, got, c.want)
			case c.want < 0 && got <= 0:
				t.Errorf("%s%v = %v, want > 0", c.name, c.attrs, got)
			}
		}
		for _, typ := range []string{"echo", "fail"} {
			n, consistent, ok := sink.histogramCount(mHandlerDuration.OTel, map[string]string{labelActorType: typ})
			if !ok || n != 1 || !consistent {
				t.Errorf("%s{actor_type=%s}: count %d (received %v, consistent cumulative buckets %v), want 1",
					mHandlerDuration.OTel, typ, n, ok, consistent)
			}
		}
		if pts := sink.points(mSupervision.OTel); len(pts) == 0 || !pts[0].sum {
			t.Errorf("%s is not a sum", mSupervision.OTel)
		}
		// Every instrument in the table reached OTLP.
		names := sink.names()
		for _, s := range metricTable() {
			if s.OTel != "" && !names[s.OTel] {
				t.Errorf("%s (%s) not received over OTLP", s.OTel, s.Prom)
			}
		}
	})
	t.Run("spans", func(t *testing.T) {
		// x2 was stopped and exited with 3: a clean stop, with the exit code.
		x2 := sink.span(t, spanActor, map[string]string{string(attrActorID): "x2"})
		stop := sink.span(t, spanStop, map[string]string{string(attrActorID): "x2"})
		if string(stop.GetParentSpanId()) != string(x2.GetSpanId()) || string(stop.GetTraceId()) != string(x2.GetTraceId()) {
			t.Error("x2's stop span is not a child of its actor span")
		}
		for _, sp := range []*tracepb.Span{stop, x2} {
			checkSupervisionEvent(t, sp, "STOPPED", "3")
			if sp.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR {
				t.Errorf("%s of x2 has an error status for a clean stop", sp.GetName())
			}
		}
		// x1 exited with 3 by itself: FAILED, with an error status.
		x1 := sink.span(t, spanActor, map[string]string{string(attrActorID): "x1", string(attrStatus): "FAILED"})
		checkSupervisionEvent(t, x1, "FAILED", "3")
		if x1.GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR {
			t.Errorf("x1's actor span status %v, want an error", x1.GetStatus())
		}
		// Every create has a spawn span; p1's was refused.
		for _, id := range []string{"s1", "e1", "f1", "x1", "x2"} {
			sink.span(t, spanSpawn, map[string]string{string(attrActorID): id})
		}
		p1 := sink.span(t, spanSpawn, map[string]string{string(attrActorID): "p1"})
		if p1.GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR {
			t.Errorf("p1's refused spawn has status %v, want an error", p1.GetStatus())
		}
		// The RPC went through the interceptor.
		rpcSpan := sink.span(t, "procagent.v1.ProcAgentService/List", nil)
		if rpcSpan.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
			t.Errorf("RPC span kind %v, want server", rpcSpan.GetKind())
		}
	})
}

// checkSupervisionEvent checks sp carries the supervision span event.
func checkSupervisionEvent(t *testing.T, sp *tracepb.Span, status, exitCode string) {
	t.Helper()
	for _, ev := range sp.GetEvents() {
		if ev.GetName() != eventSupervision {
			continue
		}
		a := attrMap(ev.GetAttributes())
		if a[string(attrStatus)] != status || a[string(attrExitCode)] != exitCode || a[string(attrReason)] == "" {
			t.Errorf("%s: supervision event %v, want status %s and %s=%s", sp.GetName(), a, status, attrExitCode, exitCode)
		}
		return
	}
	t.Errorf("%s has no %s event", sp.GetName(), eventSupervision)
}
