package rpcserver

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	"github.com/procagent/procagent/internal/testenv"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// BenchmarkG6_RoundTrip: a CreateOrUpdate and a GetState over h2c, vs two
// POSTs to a bare net/http echo handler on the same transport (target
// <= 1.6x, README "Benchmarks"). `make bench` prints the ratio.
func BenchmarkG6_RoundTrip(b *testing.B) {
	b.Run("actor", func(b *testing.B) {
		h := newHarness(b, nil, nil)
		ctx := context.Background()
		create := &procagentv1.CreateOrUpdateRequest{Id: "bench", Spec: &procagentv1.ActorSpec{ActorType: "echo"}}
		get := &procagentv1.GetStateRequest{Id: "bench"}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := h.client.CreateOrUpdate(ctx, connect.NewRequest(create)); err != nil {
				b.Fatal(err)
			}
			if _, err := h.client.GetState(ctx, connect.NewRequest(get)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline", func(b *testing.B) {
		srv := testenv.NewH2CServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/proto")
			_, _ = w.Write(body)
		}))
		hc := srv.Client
		ctx := context.Background()
		payload := []byte("\n\x05bench\x1a\x06\n\x04echo")
		post := func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/echo", bytes.NewReader(payload))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/proto")
			res, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			post()
			post()
		}
	})
}
