package main

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/procagent/procagent/rpcserver"
)

// mountPprof mounts the Go profiler on mux on purpose (never through
// net/http/pprof's side effect on the default mux). A profile over a
// duration (?seconds=N; /profile and /trace always have one) is refused
// past maxDuration and holds a slot of gate while it records.
func mountPprof(mux *http.ServeMux, maxDuration time.Duration, gate *rpcserver.Gate) {
	mux.Handle("/debug/pprof/", bounded(http.HandlerFunc(pprof.Index), 0, maxDuration, gate))
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.Handle("/debug/pprof/profile", bounded(http.HandlerFunc(pprof.Profile), 30*time.Second, maxDuration, gate))
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.Handle("/debug/pprof/trace", bounded(http.HandlerFunc(pprof.Trace), time.Second, maxDuration, gate))
}

// bounded applies max_profile_duration and max_profiles to a pprof handler
// whose duration is ?seconds=N, dflt when absent (0: no duration).
func bounded(h http.Handler, dflt, maxDuration time.Duration, gate *rpcserver.Gate) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := dflt
		if s := r.URL.Query().Get("seconds"); s != "" {
			n, err := strconv.ParseFloat(s, 64)
			if err != nil || n < 0 {
				http.Error(w, fmt.Sprintf("seconds=%q: not a number of seconds", s), http.StatusBadRequest)
				return
			}
			if maxDuration > 0 && n > maxDuration.Seconds() {
				http.Error(w, fmt.Sprintf("a profile of %ss is over the limit of %v (max_profile_duration)", s, maxDuration), http.StatusBadRequest)
				return
			}
			d = time.Duration(n * float64(time.Second))
		}
		if d <= 0 {
			h.ServeHTTP(w, r)
			return
		}
		if maxDuration > 0 && d > maxDuration {
			http.Error(w, fmt.Sprintf("a profile of %v is over the limit of %v (max_profile_duration)", d, maxDuration), http.StatusBadRequest)
			return
		}
		if !gate.TryAcquire() {
			http.Error(w, fmt.Sprintf("%d profiles and dumps already (max_profiles)", gate.Cap()), http.StatusTooManyRequests)
			return
		}
		defer gate.Release()
		h.ServeHTTP(w, r)
	})
}
