package runtime

import (
	"errors"
	"testing"
)

func TestStatusOrder(t *testing.T) {
	order := []Status{StatusNotExist, StatusInitializing, StatusRunning, StatusStopping,
		StatusStopped, StatusFailed, StatusTimeout, StatusUnknown}
	for i := 1; i < len(order); i++ {
		if !order[i].AtLeast(order[i-1]) || order[i-1].AtLeast(order[i]) {
			t.Errorf("%v should come after %v", order[i], order[i-1])
		}
	}
	tests := []struct {
		s                               Status
		terminating, terminated, failed bool
	}{
		{StatusNotExist, false, false, false},
		{StatusInitializing, false, false, false},
		{StatusRunning, false, false, false},
		{StatusStopping, true, false, false},
		{StatusStopped, true, true, false},
		{StatusFailed, true, true, true},
		{StatusTimeout, true, true, true},
		{StatusUnknown, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.s.String(), func(t *testing.T) {
			if got := tt.s.IsTerminating(); got != tt.terminating {
				t.Errorf("IsTerminating = %v, want %v", got, tt.terminating)
			}
			if got := tt.s.IsTerminated(); got != tt.terminated {
				t.Errorf("IsTerminated = %v, want %v", got, tt.terminated)
			}
			if got := tt.s.IsFailure(); got != tt.failed {
				t.Errorf("IsFailure = %v, want %v", got, tt.failed)
			}
			back, err := ParseStatus(tt.s.String())
			if err != nil || back != tt.s {
				t.Errorf("ParseStatus(%q) = %v, %v", tt.s.String(), back, err)
			}
		})
	}
	if _, err := ParseStatus("BOGUS"); err == nil {
		t.Error("ParseStatus(BOGUS) should fail")
	}
	if got := Status(42).String(); got != "Status(42)" {
		t.Errorf("String of out-of-range = %q", got)
	}
}

func TestDerive(t *testing.T) {
	clean := &SupervisionEvent{Status: StatusStopped}
	failed := &SupervisionEvent{Status: StatusFailed}
	timedOut := &SupervisionEvent{Status: StatusTimeout}
	tests := []struct {
		name     string
		spawnErr error
		stopReq  bool
		event    *SupervisionEvent
		want     Status
	}{
		{"running", nil, false, nil, StatusRunning},
		{"stop requested", nil, true, nil, StatusStopping},
		{"clean event", nil, false, clean, StatusStopped},
		{"clean event after stop", nil, true, clean, StatusStopped},
		{"error event", nil, false, failed, StatusFailed},
		{"error event after stop", nil, true, failed, StatusFailed},
		{"timeout event", nil, true, timedOut, StatusTimeout},
		{"spawn failed", errors.New("boom"), false, nil, StatusFailed},
		{"spawn failed wins over stop", errors.New("boom"), true, clean, StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Derive(tt.spawnErr, tt.stopReq, tt.event); got != tt.want {
				t.Errorf("Derive = %v, want %v", got, tt.want)
			}
		})
	}
}
