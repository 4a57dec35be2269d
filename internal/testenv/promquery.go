package testenv

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// queryResponse is the envelope of /api/v1/query.
type queryResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// parseQueryResponse parses an /api/v1/query body into samples.
func parseQueryResponse(body []byte) ([]Sample, error) {
	var r queryResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	switch r.Data.ResultType {
	case "vector":
		var vec []struct {
			Metric map[string]string  `json:"metric"`
			Value  [2]json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(r.Data.Result, &vec); err != nil {
			return nil, fmt.Errorf("decode vector: %w", err)
		}
		samples := make([]Sample, 0, len(vec))
		for _, v := range vec {
			ts, val, err := parsePromValue(v.Value)
			if err != nil {
				return nil, err
			}
			samples = append(samples, Sample{Labels: v.Metric, Value: val, Time: ts})
		}
		return samples, nil
	case "scalar":
		var v [2]json.RawMessage
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return nil, fmt.Errorf("decode scalar: %w", err)
		}
		ts, val, err := parsePromValue(v)
		if err != nil {
			return nil, err
		}
		return []Sample{{Labels: map[string]string{}, Value: val, Time: ts}}, nil
	default:
		return nil, fmt.Errorf("result type %q: want vector or scalar", r.Data.ResultType)
	}
}

// parsePromValue parses a [unix seconds, "value"] pair.
func parsePromValue(v [2]json.RawMessage) (time.Time, float64, error) {
	var secs float64
	var s string
	if err := json.Unmarshal(v[0], &secs); err != nil {
		return time.Time{}, 0, fmt.Errorf("decode sample time: %w", err)
	}
	if err := json.Unmarshal(v[1], &s); err != nil {
		return time.Time{}, 0, fmt.Errorf("decode sample value: %w", err)
	}
	val, err := strconv.ParseFloat(s, 64) // also "NaN", "+Inf", "-Inf"
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("decode sample value: %w", err)
	}
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(math.Round(frac*1e9))), val, nil
}
