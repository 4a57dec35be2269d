package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/procagent/procagent/runtime"
)

// instruments are this package's OTel instruments (the per-actor families
// and the handler histogram excepted: see collector.go). Synchronous ones
// are fed by the Observer; observable ones are read at collection time.
type instruments struct {
	// Synchronous.
	spawns      metric.Int64Counter
	stops       metric.Int64Counter
	supervision metric.Int64Counter

	// Observable, from the proc and the agent (callback registered by Observe).
	queueDepth     metric.Int64ObservableGauge
	queueDepthMax  metric.Int64ObservableGauge
	queueHighWater metric.Int64ObservableGauge
	queueAge       metric.Float64ObservableGauge
	actors         metric.Int64ObservableGauge
	poisoned       metric.Int64ObservableGauge
	failedActors   metric.Int64ObservableGauge

	// Precomputed attribute options (no allocation when used).
	errFalse, errTrue []metric.AddOption
	byStatus          map[runtime.Status]metric.ObserveOption
}

// The statuses procagent.actors always reports, zero or not.
var reportedStatuses = []runtime.Status{
	runtime.StatusRunning, runtime.StatusStopping, runtime.StatusStopped,
	runtime.StatusFailed, runtime.StatusTimeout,
}

// newInstruments creates the instruments on meter, and the observable
// counter of messages handled (read from hs) and the build info gauge.
func newInstruments(meter metric.Meter, o Options, hs *handlerStats) (*instruments, error) {
	in := &instruments{byStatus: make(map[runtime.Status]metric.ObserveOption)}
	b := instrumentBuilder{meter: meter}
	in.spawns = b.counter(mSpawns)
	in.stops = b.counter(mStops)
	in.supervision = b.counter(mSupervision)
	in.queueDepth = b.gauge(mQueueDepth)
	in.queueDepthMax = b.gauge(mQueueDepthMax)
	in.queueHighWater = b.gauge(mQueueHighWater)
	in.queueAge = b.floatGauge(mQueueNonzeroAge)
	in.actors = b.gauge(mActors)
	in.poisoned = b.gauge(mPoisoned)
	in.failedActors = b.gauge(mFailedActors)

	b.counterWithCallback(mMessagesHandled, func(_ context.Context, obs metric.Int64Observer) error {
		hs.observe(obs)
		return nil
	})
	build := metric.WithAttributeSet(attribute.NewSet(
		attribute.String(labelVersion, o.ServiceVersion),
		attribute.String(labelGoVersion, goVersion()),
	))
	b.gaugeWithCallback(mBuildInfo, func(_ context.Context, obs metric.Int64Observer) error {
		obs.Observe(1, build)
		return nil
	})
	if b.err != nil {
		return nil, b.err
	}

	in.errFalse = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String(labelError, "false")))}
	in.errTrue = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String(labelError, "true")))}
	for s := runtime.StatusNotExist; s <= runtime.StatusUnknown; s++ {
		in.byStatus[s] = metric.WithAttributeSet(attribute.NewSet(attribute.String(labelStatus, s.String())))
	}
	return in, nil
}

// errOpt is the error="true"/"false" attribute option.
func (in *instruments) errOpt(failed bool) []metric.AddOption {
	if failed {
		return in.errTrue
	}
	return in.errFalse
}

// instrumentBuilder creates instruments from the name table, keeping the
// first error.
type instrumentBuilder struct {
	meter metric.Meter
	err   error
}

func (b *instrumentBuilder) fail(s metricSpec, err error) {
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("instrument %s: %w", s.OTel, err)
	}
}

func (b *instrumentBuilder) counter(s metricSpec) metric.Int64Counter {
	c, err := b.meter.Int64Counter(s.OTel, metric.WithUnit(s.Unit), metric.WithDescription(s.Help))
	b.fail(s, err)
	return c
}

func (b *instrumentBuilder) gauge(s metricSpec) metric.Int64ObservableGauge {
	g, err := b.meter.Int64ObservableGauge(s.OTel, metric.WithUnit(s.Unit), metric.WithDescription(s.Help))
	b.fail(s, err)
	return g
}

func (b *instrumentBuilder) floatGauge(s metricSpec) metric.Float64ObservableGauge {
	g, err := b.meter.Float64ObservableGauge(s.OTel, metric.WithUnit(s.Unit), metric.WithDescription(s.Help))
	b.fail(s, err)
	return g
}

func (b *instrumentBuilder) gaugeWithCallback(s metricSpec, f metric.Int64Callback) {
	_, err := b.meter.Int64ObservableGauge(s.OTel, metric.WithUnit(s.Unit), metric.WithDescription(s.Help),
		metric.WithInt64Callback(f))
	b.fail(s, err)
}

func (b *instrumentBuilder) counterWithCallback(s metricSpec, f metric.Int64Callback) {
	_, err := b.meter.Int64ObservableCounter(s.OTel, metric.WithUnit(s.Unit), metric.WithDescription(s.Help),
		metric.WithInt64Callback(f))
	b.fail(s, err)
}
