package procagent

import "testing"

func TestSelfMemory(t *testing.T) {
	if _, _, ok := (selfStatm{root: "testdata/nonexistent"}).ReadMemory(); ok {
		t.Error("an unreadable statm must be absent, not invented")
	}
	if rss, vm, ok := SelfMemory().ReadMemory(); !ok || rss == 0 || vm < rss {
		t.Errorf("own statm: rss %d vm %d ok %v", rss, vm, ok)
	}
}
