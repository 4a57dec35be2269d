package profiling

import (
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	threading = "lib/python3.9/threading.py"
	mainStack = []frame{{"<module>", "worker.py", 13}, {"busy_worker_fn", "worker.py", 6}}
)

func TestParseAustinV1Line(t *testing.T) {
	tests := []struct {
		name string
		line string
		want austinSample
		ok   bool
	}{
		{
			name: "recorded wall sample",
			line: "Thread 5631a1f18d40;<module> (worker.py);L13;busy_worker_fn (worker.py);L6 50105",
			want: austinSample{sample: sample{Thread: "0x5631a1f18d40", Frames: mainStack, Count: 1, Micros: 50105}},
			ok:   true,
		},
		{
			name: "first sample of a thread has no time yet",
			line: "Thread 5631a1f18d40;<module> (worker.py);L13;busy_worker_fn (worker.py);L6 0",
			want: austinSample{sample: sample{Thread: "0x5631a1f18d40", Frames: mainStack, Count: 1}},
			ok:   true,
		},
		{
			name: "alternative format -a",
			line: "Thread 5631a1f18d40;<module> (worker.py:13);busy_worker_fn (worker.py:6) 50097",
			want: austinSample{sample: sample{Thread: "0x5631a1f18d40", Frames: mainStack, Count: 1, Micros: 50097}},
			ok:   true,
		},
		{
			name: "full metrics -f: time, +mem, -mem",
			line: "Thread 5631a1f18d40;<module> (worker.py);L13;busy_worker_fn (worker.py);L6 50082 0 0",
			want: austinSample{sample: sample{Thread: "0x5631a1f18d40", Frames: mainStack, Count: 1, Micros: 50082}},
			ok:   true,
		},
		{
			name: "children -C",
			line: "Process 15694;Thread 55a4495a4300;<module> (<string>);L3;child_spin_fn (<string>);L2 44728",
			want: austinSample{sample: sample{
				Pid: 15694, Thread: "0x55a4495a4300", Count: 1, Micros: 44728,
				Frames: []frame{{"<module>", "<string>", 3}, {"child_spin_fn", "<string>", 2}},
			}},
			ok: true,
		},
		{
			name: "sleepless -s marks an idle leaf",
			line: "Thread 5631a1f50180;_bootstrap (" + threading + ");L937;run (" + threading + ");L917;<idle> 0",
			want: austinSample{sample: sample{
				Thread: "0x5631a1f50180", Count: 1, Idle: true,
				Frames: []frame{{"_bootstrap", threading, 937}, {"run", threading, 917}},
			}},
			ok: true,
		},
		{
			name: "austin 2 head",
			line: "P14924;T7f3a2c1d0740;<module> (worker.py);L13;busy_worker_fn (worker.py);L6 1065",
			want: austinSample{sample: sample{Pid: 14924, Thread: "0x7f3a2c1d0740", Frames: mainStack, Count: 1, Micros: 1065}},
			ok:   true,
		},
		{
			name: "thread with an all-digit id and no frames",
			line: "Thread 555555555555 1000",
			want: austinSample{sample: sample{Thread: "0x555555555555", Count: 1, Micros: 1000}},
			ok:   true,
		},
		{
			name: "bad sample",
			line: "Thread 5631a1f18d40;Bad sample 50105",
			want: austinSample{sample: sample{Thread: "0x5631a1f18d40", Count: 1, Micros: 50105}, invalid: true},
			ok:   true,
		},
		{name: "no metric (a line cut short)", line: "Thread 5631a1f18d40;<module> (worker.py);L13;busy_wor"},
		{name: "not austin", line: "🕑 Sampling time (min/avg/max) : 60/42/156 us"},
		{name: "austin 3 line", line: "P1;T0:1;worker.py:f:1 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseAustinV1Line(tt.line)
			if ok != tt.ok {
				t.Fatalf("parseAustinV1Line(%q) ok = %v, want %v", tt.line, ok, tt.ok)
			}
			if !ok {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(austinSample{})); diff != "" {
				t.Errorf("parseAustinV1Line(%q) mismatch (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

func TestParseAustinV3Line(t *testing.T) {
	tests := []struct {
		name string
		line string
		mode string
		want austinSample
		ok   bool
	}{
		{
			name: "wall sample, 3.6+ head",
			line: "P21402;T0:21402;worker.py:<module>:13;worker.py:busy_worker_fn:6 10087",
			mode: "wall",
			want: austinSample{sample: sample{Pid: 21402, Thread: "21402", Frames: mainStack, Count: 1, Micros: 10087}},
			ok:   true,
		},
		{
			name: "3.0 to 3.5 head",
			line: "P21402;T21402;worker.py:<module>:13;worker.py:busy_worker_fn:6 10087",
			mode: "cpu",
			want: austinSample{sample: sample{Pid: 21402, Thread: "21402", Frames: mainStack, Count: 1, Micros: 10087}},
			ok:   true,
		},
		{
			name: "full mode: time,idle,memory",
			line: "P15661;T0:15661;parent.py:<module>:8;parent.py:parent_wait_fn:5 10034,1,-4096",
			mode: "full",
			want: austinSample{sample: sample{
				Pid: 15661, Thread: "15661", Count: 1, Micros: 10034, Idle: true,
				Frames: []frame{{"<module>", "parent.py", 8}, {"parent_wait_fn", "parent.py", 5}},
			}},
			ok: true,
		},
		{
			name: "memory mode records no time",
			line: "P21402;T0:21402;worker.py:<module>:13;worker.py:busy_worker_fn:6 -4096",
			mode: "memory",
			want: austinSample{sample: sample{Pid: 21402, Thread: "21402", Frames: mainStack, Count: 1}},
			ok:   true,
		},
		{
			name: "alternative format of early 3.x",
			line: "P21402;T21402;worker.py:<module>;L13;worker.py:busy_worker_fn;L6 10087",
			want: austinSample{sample: sample{Pid: 21402, Thread: "21402", Frames: mainStack, Count: 1, Micros: 10087}},
			ok:   true,
		},
		{
			name: "GC pseudo-frame is dropped",
			line: "P15694;T0:15694;<string>:child_spin_fn:2;:GC: 10020",
			want: austinSample{sample: sample{Pid: 15694, Thread: "15694", Count: 1, Micros: 10020, Frames: []frame{{"child_spin_fn", "<string>", 2}}}},
			ok:   true,
		},
		{
			name: "invalid frame marks the sample",
			line: "P21402;T0:21402;worker.py:<module>:13;:INVALID: 10012",
			want: austinSample{sample: sample{Pid: 21402, Thread: "21402", Count: 1, Micros: 10012, Frames: []frame{{"<module>", "worker.py", 13}}}, invalid: true},
			ok:   true,
		},
		{
			name: "colons in the file name",
			line: `P7;T0:7;C:\app\worker.py:busy_worker_fn:6 5`,
			want: austinSample{sample: sample{Pid: 7, Thread: "7", Count: 1, Micros: 5, Frames: []frame{{"busy_worker_fn", `C:\app\worker.py`, 6}}}},
			ok:   true,
		},
		{name: "metadata is not a sample", line: "# austin: 3.7.0"},
		{name: "austin 1 line", line: "Thread 5631a1f18d40;<module> (worker.py);L13 5"},
		{name: "no metric", line: "P21402;T0:21402;worker.py:<module>:13"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseAustinV3Line(tt.line, tt.mode)
			if ok != tt.ok {
				t.Fatalf("parseAustinV3Line(%q) ok = %v, want %v", tt.line, ok, tt.ok)
			}
			if !ok {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(austinSample{})); diff != "" {
				t.Errorf("parseAustinV3Line(%q) mismatch (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

// TestParseAustinRecorded parses whole outputs, the recorded austin 1.0.1
// ones and the austin 3 ones, checks what they hold, and keeps their
// collapsed form as golden files.
func TestParseAustinRecorded(t *testing.T) {
	tests := []struct {
		file     string
		keepIdle bool
		meta     map[string]string
		threads  int // distinct threads
		pids     int // distinct pids (0: unknown, counted as one)
		total    int64
		skipped  int
		contains []string // function names present
	}{
		{file: "v1-wall.txt", threads: 2, pids: 1, total: 14, contains: []string{"busy_worker_fn", "idle_waiter_fn"}},
		{file: "v1-sleepless.txt", threads: 1, pids: 1, total: 7, contains: []string{"busy_worker_fn"}},
		{file: "v1-sleepless.txt", keepIdle: true, threads: 2, pids: 1, total: 14, contains: []string{"busy_worker_fn", "_bootstrap"}},
		{file: "v1-alt.txt", threads: 2, pids: 1, total: 14, contains: []string{"busy_worker_fn", "idle_waiter_fn"}},
		{file: "v1-full.txt", threads: 2, pids: 1, total: 13, contains: []string{"busy_worker_fn"}},
		{file: "v1-children.txt", threads: 2, pids: 2, total: 14, contains: []string{"child_spin_fn", "parent_wait_fn"}},
		{
			file: "v3-wall.txt", threads: 2, pids: 1, total: 7, skipped: 1,
			meta:     map[string]string{"austin": "3.7.0", "interval": "10000", "mode": "wall", "python": "3.12.3", "duration": "51234"},
			contains: []string{"busy_worker_fn", "idle_waiter_fn"},
		},
		{
			file: "v3-full-children.txt", threads: 1, pids: 1, total: 3,
			meta:     map[string]string{"austin": "3.7.0", "interval": "10000", "mode": "full", "memory": "16777216", "multiprocess": "on", "python": "3.9.18", "duration": "40101"},
			contains: []string{"child_spin_fn"},
		},
		{
			file: "v3-full-children.txt", keepIdle: true, threads: 2, pids: 2, total: 6,
			contains: []string{"child_spin_fn", "parent_wait_fn"},
		},
	}
	for _, tt := range tests {
		name := strings.TrimSuffix(tt.file, ".txt")
		if tt.keepIdle {
			name += "+idle"
		}
		t.Run(name, func(t *testing.T) {
			st := parseAustin(readTestdata(t, "austin/"+tt.file), tt.keepIdle, false)
			threads, pids := map[threadKey]bool{}, map[int]bool{}
			names := map[string]bool{}
			for _, s := range st.Samples {
				threads[threadKey{s.Pid, s.Thread}] = true
				pids[s.Pid] = true
				for _, f := range s.Frames {
					names[f.Name] = true
					if f.Line <= 0 || f.File == "" {
						t.Errorf("frame %+v lacks its file or line", f)
					}
				}
			}
			if len(threads) != tt.threads || len(pids) != tt.pids || st.Total != tt.total || st.Skipped != tt.skipped {
				t.Errorf("threads %d, pids %d, total %d, skipped %d; want %d, %d, %d, %d",
					len(threads), len(pids), st.Total, st.Skipped, tt.threads, tt.pids, tt.total, tt.skipped)
			}
			for _, n := range tt.contains {
				if !names[n] {
					t.Errorf("no frame of %s in %v", n, names)
				}
			}
			if tt.meta != nil {
				if diff := cmp.Diff(tt.meta, st.Meta); diff != "" {
					t.Errorf("metadata mismatch (-want +got):\n%s", diff)
				}
			}
			if !st.HasTime {
				t.Error("austin samples carry no time")
			}
			golden(t, "austin-"+name+".collapsed", renderCollapsed(st, true))
		})
	}
}

// TestAustinParserStreams feeds a recorded output in small writes, as a
// pipe delivers it, and gets what a whole parse gets; a last line cut
// short is not a sample.
func TestAustinParserStreams(t *testing.T) {
	data := readTestdata(t, "austin/v1-wall.txt")
	whole := parseAustin(data, true, true)
	p := newAustinParser(true, true)
	for b := data; len(b) > 0; {
		n := min(7, len(b))
		_, _ = p.Write(b[:n])
		b = b[n:]
	}
	_, _ = p.Write([]byte("Thread 5631a1f18d40;<module> (worker.py);L13;busy_wor"))
	got := p.stacks()
	if got.Total != whole.Total || got.Skipped != whole.Skipped+1 {
		t.Errorf("streamed: total %d skipped %d; whole: total %d skipped %d", got.Total, got.Skipped, whole.Total, whole.Skipped)
	}
	if diff := cmp.Diff(whole.Samples, got.Samples); diff != "" {
		t.Errorf("streamed samples mismatch (-whole +streamed):\n%s", diff)
	}
	if len(got.lastOrder) != 2 {
		t.Errorf("last samples of %d threads, want 2", len(got.lastOrder))
	}
}

func TestParseAustinWhere(t *testing.T) {
	st := parseAustinWhere(readTestdata(t, "austin/v3-where.txt"))
	procs := austinProcesses(st, 21402, true)
	want := []ProcessStacks{
		{Pid: 21402, Threads: []ThreadStack{
			{ID: 21402, Active: true, Frames: []Frame{{Name: "busy_worker_fn", File: "worker.py", Line: 6}, {Name: "<module>", File: "worker.py", Line: 13}}},
			{ID: 21403, Active: false, Frames: []Frame{
				{Name: "idle_waiter_fn", File: "worker.py", Line: 10},
				{Name: "run", File: "lib/python3.12/threading.py", Line: 1010},
				{Name: "_bootstrap", File: "lib/python3.12/threading.py", Line: 1030},
			}},
		}},
		{Pid: 21450, Threads: []ThreadStack{
			{ID: 21450, Active: true, Frames: []Frame{{Name: "child_spin_fn", File: "<string>", Line: 2}, {Name: "<module>", File: "<string>", Line: 3}}},
		}},
	}
	if diff := cmp.Diff(want, procs, cmpopts.IgnoreFields(ProcessStacks{}, "Command")); diff != "" {
		t.Errorf("where dump mismatch (-want +got):\n%s", diff)
	}
}

func TestParseFrameLabel(t *testing.T) {
	tests := []struct {
		in   string
		want frame
	}{
		{"busy_worker_fn (worker.py:6)", frame{"busy_worker_fn", "worker.py", 6}},
		{"<module> (worker.py)", frame{"<module>", "worker.py", 0}},
		{"busy_worker_fn", frame{"busy_worker_fn", "", 0}},
		{"<lambda> (dir (old)/w.py:3)", frame{"<lambda>", "dir (old)/w.py", 3}},
		{"PyNumber_Add (abstract.c:1134)", frame{"PyNumber_Add", "abstract.c", 1134}},
		{"Py_BytesMain (python3.9)", frame{"Py_BytesMain", "python3.9", 0}},
		{"f (C:\\w.py:2)", frame{"f", "C:\\w.py", 2}},
	}
	for _, tt := range tests {
		if got := parseFrameLabel(tt.in); got != tt.want {
			t.Errorf("parseFrameLabel(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParsePySpyRaw(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []sample
		skipped int
	}{
		{
			name: "threads",
			in:   string(readTestdata(t, "pyspy/record.raw")),
			want: []sample{
				{Thread: "4242", ThreadName: "MainThread", Count: 187, Frames: mainStack},
				{Thread: "4242", ThreadName: "MainThread", Count: 9, Frames: []frame{{"<module>", "worker.py", 13}, {"busy_worker_fn", "worker.py", 5}}},
				{Thread: "4243", ThreadName: "waiter", Count: 4, Frames: []frame{
					{"_bootstrap", "threading.py", 937}, {"_bootstrap_inner", "threading.py", 980},
					{"run", "threading.py", 917}, {"idle_waiter_fn", "worker.py", 10},
				}},
			},
		},
		{
			name: "subprocesses",
			in:   string(readTestdata(t, "pyspy/record-subprocesses.raw")),
			want: []sample{
				{Pid: 4242, Command: "python3 parent.py", Thread: "4242", ThreadName: "MainThread", Count: 12, Frames: []frame{{"<module>", "parent.py", 8}, {"parent_wait_fn", "parent.py", 5}}},
				{Pid: 4250, Command: "python3 -c def child_spin_fn(): ...", Thread: "4250", Count: 198, Frames: []frame{{"<module>", "<string>", 3}, {"child_spin_fn", "<string>", 2}}},
			},
		},
		{
			name: "native frames and frames without lines",
			in:   string(readTestdata(t, "pyspy/record-native.raw")),
			want: []sample{
				{Thread: "4242", ThreadName: "MainThread", Count: 42, Frames: []frame{
					{"_start", "python3.9", 0}, {"__libc_start_main", "libc.so.6", 0}, {"Py_BytesMain", "python3.9", 0},
					{"<module>", "worker.py", 13}, {"busy_worker_fn", "worker.py", 6}, {"PyNumber_Add", "abstract.c", 1134},
				}},
				{Thread: "0x7F8E2C5F6740", Count: 3, Frames: []frame{{"<module>", "worker.py", 0}, {"busy_worker_fn", "", 0}}},
			},
		},
		{
			name: "no --threads; duplicate lines merge; junk skipped",
			in:   "<module> (w.py:1);f (w.py:2) 3\n\n<module> (w.py:1);f (w.py:2) 4\nno count here\nf (w.py:2) -1\n",
			want: []sample{{Count: 7, Frames: []frame{{"<module>", "w.py", 1}, {"f", "w.py", 2}}}},
			// "no count here" and the negative count
			skipped: 2,
		},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := parsePySpyRaw([]byte(tt.in))
			var got []sample
			for _, s := range st.Samples {
				got = append(got, *s)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parsePySpyRaw mismatch (-want +got):\n%s", diff)
			}
			if st.Skipped != tt.skipped {
				t.Errorf("skipped %d, want %d", st.Skipped, tt.skipped)
			}
		})
	}
}

// TestCollapsedRoundTrip: what renderCollapsed writes, parsePySpyRaw reads
// back, so raw profiles of both samplers read alike.
func TestCollapsedRoundTrip(t *testing.T) {
	for _, file := range []string{"austin/v1-children.txt", "austin/v3-wall.txt"} {
		st := parseAustin(readTestdata(t, file), false, false)
		back := parsePySpyRaw(renderCollapsed(st, true))
		if back.Total != st.Total || len(back.Samples) != len(st.Samples) {
			t.Fatalf("%s: round trip has %d samples in %d stacks, want %d in %d", file, back.Total, len(back.Samples), st.Total, len(st.Samples))
		}
		for i, s := range st.Samples {
			want := *s
			want.Micros, want.Idle = 0, false
			if diff := cmp.Diff(want, *back.Samples[i]); diff != "" {
				t.Errorf("%s: stack %d mismatch (-want +got):\n%s", file, i, diff)
			}
		}
	}
}

func TestParsePySpyDump(t *testing.T) {
	mainThread := ThreadStack{
		ID: 140245067626304, NativeID: 4242, Name: "MainThread", Active: true, OwnsGIL: true,
		Frames: []Frame{{Name: "busy_worker_fn", File: "worker.py", Line: 6}, {Name: "<module>", File: "worker.py", Line: 13}},
	}
	waiter := ThreadStack{
		ID: 140245040334400, NativeID: 4243, Name: "waiter",
		Frames: []Frame{
			{Name: "idle_waiter_fn", File: "worker.py", Line: 10},
			{Name: "run", File: threading, Line: 917},
			{Name: "_bootstrap_inner", File: threading, Line: 980},
			{Name: "_bootstrap", File: threading, Line: 937},
		},
	}
	withLocals := func(ts ThreadStack, locals ...map[string]string) ThreadStack {
		ts.Frames = append([]Frame(nil), ts.Frames...)
		for i := range ts.Frames {
			ts.Frames[i].Locals = locals[i]
		}
		return ts
	}
	tests := []struct {
		name    string
		in      string
		want    []ThreadStack
		wantErr bool
	}{
		{name: "dump", in: string(readTestdata(t, "pyspy/dump.json")), want: []ThreadStack{mainThread, waiter}},
		{
			name: "locals",
			in:   string(readTestdata(t, "pyspy/dump-locals.json")),
			want: []ThreadStack{
				withLocals(mainThread, map[string]string{"x": "1990000"}, nil),
				withLocals(waiter, nil,
					map[string]string{"self": "<Thread(waiter, started daemon 140245040334400)>"},
					map[string]string{"self": ""}, map[string]string{"self": ""}),
			},
		},
		{
			name: "py-spy 0.3: no is_entry, a native frame with its module",
			in:   `[{"pid":7,"thread_id":1,"thread_name":null,"os_thread_id":null,"active":true,"owns_gil":false,"frames":[{"name":"PyNumber_Add","filename":"abstract.c","module":"libpython3.9.so.1.0","short_filename":null,"line":1134,"locals":null}]}]`,
			want: []ThreadStack{{ID: 1, Active: true, Frames: []Frame{{Name: "PyNumber_Add", File: "abstract.c", Line: 1134, Module: "libpython3.9.so.1.0"}}}},
		},
		{name: "empty", in: "[]", want: []ThreadStack{}},
		{name: "not JSON", in: "Process 4242: python3 worker.py", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePySpyDump([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parsePySpyDump err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parsePySpyDump mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFailure maps the samplers' real exits to outcomes.
func TestFailure(t *testing.T) {
	pyspy := Sampler{Kind: KindPySpy, Path: "py-spy"}
	austin := Sampler{Kind: KindAustin, Path: "austin"}
	tests := []struct {
		name string
		s    Sampler
		out  runOutput
		want string
	}{
		{"success", pyspy, runOutput{}, ""},
		{"austin 1.0.1 without rights", austin, runOutput{code: 36, stderr: readTestdata(t, "austin/v1-permission.stderr")}, "permission_denied"},
		{"austin 1.0.1 on a non-Python process", austin, runOutput{code: 36, stderr: readTestdata(t, "austin/v1-not-python.stderr")}, "exit_failure"},
		{"austin 1.0.1 on no process", austin, runOutput{code: 36, stderr: readTestdata(t, "austin/v1-no-such-process.stderr")}, "exit_failure"},
		{"py-spy without root", pyspy, runOutput{code: 1, stderr: []byte(`Permission Denied: Try running again with elevated permissions by going 'sudo env "PATH=$PATH" !!'`)}, "permission_denied"},
		{"py-spy in docker", pyspy, runOutput{code: 1, stderr: []byte("Permission Denied\n\nIt looks like you are running in a docker container. Please make sure you started your container with the SYS_PTRACE capability.")}, "permission_denied"},
		{"py-spy EPERM", pyspy, runOutput{code: 1, stderr: []byte("Error: Failed to attach\n\nCaused by:\n    Operation not permitted (os error 1)")}, "permission_denied"},
		{"py-spy crashed", pyspy, runOutput{code: 139}, "exit_failure"},
		{"timed out", pyspy, runOutput{code: 137, timedOut: true}, "timed_out"},
		{"binary gone", pyspy, runOutput{code: -1, startErr: &fs.PathError{Op: "fork/exec", Path: "py-spy", Err: syscall.ENOENT}}, "binary_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failure(tt.out, tt.s)
			kind := ""
			if got != nil {
				kind = got.Kind()
			}
			if kind != tt.want {
				t.Errorf("failure = %v, want %s", got, tt.want)
			}
			if got != nil && got.PermissionDenied != nil && !strings.Contains(got.PermissionDenied.Hint, "CAP_SYS_PTRACE") {
				t.Errorf("hint %q does not name CAP_SYS_PTRACE", got.PermissionDenied.Hint)
			}
		})
	}
}
