// The conformance driver: validates the runtime's `spec` output with runtime-tools' validate
// package and the runtime-spec JSON schema files on disk, then generates bundles with
// runtime-tools' generate package for every runtime-spec area and drives the runtime with the
// call pattern runtime-tools uses (create [--pid-file F] --bundle DIR ID, start, state, kill,
// delete [--force]). The in-container checker (../checker) reports what the container sees.
//
// Output: one TAP line per assertion, then "N passed, M failed, K skipped". Exit status 1 when
// anything failed. Host limitations are detected and reported as skips with the reason.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

var (
	flagRuntime = flag.String("runtime", os.Getenv("RUNTIME"), "runtime binary (default $RUNTIME; run.sh passes build/crun-lite of the checkout)")
	flagChecker = flag.String("checker", "", "the static in-container checker binary")
	flagWork    = flag.String("work", "", "work directory for bundles and the state root (default: a new temporary directory)")
	flagRun     = flag.String("run", "", "only cases whose area/name matches this regular expression")
	flagResults = flag.String("results", "", "also write the results as TSV (area, case, assertion, result, detail) to this file")
	flagKeep    = flag.Bool("keep", false, "keep the work directory")
	flagVerbose = flag.Bool("v", false, "print the runtime commands")
	flagSchema  = flag.String("schema-dir", "/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema", "runtime-spec JSON schema files")
)

// T collects TAP results.
type T struct {
	n, pass, fail, skip int
	area, name          string
	results             io.Writer
	out                 *bufio.Writer
}

var tap = &T{out: bufio.NewWriter(os.Stdout)}

func (t *T) line(status, desc, detail string) {
	t.n++
	full := fmt.Sprintf("%s: %s", t.area, desc)
	if t.name != "" && !strings.HasPrefix(desc, t.name) {
		full = fmt.Sprintf("%s: %s: %s", t.area, t.name, desc)
	}
	full = strings.ReplaceAll(full, "\n", " ")
	detail = strings.ReplaceAll(strings.TrimSpace(detail), "\n", " | ")
	if len(detail) > 1500 {
		detail = detail[:1500] + "..."
	}
	switch status {
	case "pass":
		t.pass++
		fmt.Fprintf(t.out, "ok %d - %s\n", t.n, full)
	case "fail":
		t.fail++
		fmt.Fprintf(t.out, "not ok %d - %s\n", t.n, full)
		if detail != "" {
			fmt.Fprintf(t.out, "#   %s\n", detail)
		}
	case "skip":
		t.skip++
		fmt.Fprintf(t.out, "ok %d - %s # SKIP %s\n", t.n, full, detail)
	}
	t.out.Flush()
	if t.results != nil {
		fmt.Fprintf(t.results, "%s\t%s\t%s\t%s\t%s\n", t.area, t.name, strings.TrimPrefix(strings.TrimPrefix(full, t.area+": "), t.name+": "), status, detail)
	}
}

// Ok records a pass when cond holds, else a failure with detail.
func (t *T) Ok(cond bool, desc string, detail string, args ...interface{}) bool {
	if cond {
		t.line("pass", desc, "")
	} else {
		t.line("fail", desc, fmt.Sprintf(detail, args...))
	}
	return cond
}

// Skip records a skipped assertion (host limitation) with its reason.
func (t *T) Skip(desc, reason string) { t.line("skip", desc, reason) }

// Note prints a TAP comment.
func (t *T) Note(format string, args ...interface{}) {
	fmt.Fprintf(t.out, "# %s\n", strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", "\n# "))
	t.out.Flush()
}

type testCase struct {
	area, name string
	run        func(t *T)
}

var cases []testCase

func register(area, name string, run func(t *T)) {
	cases = append(cases, testCase{area, name, run})
}

var (
	rt      *Runtime
	work    string
	checker string
	runID   string
)

func main() {
	flag.Parse()
	logrus.SetLevel(logrus.ErrorLevel)
	bin := *flagRuntime
	if bin == "" {
		fmt.Fprintln(os.Stderr, "conformance driver: give the runtime binary with -runtime or $RUNTIME (tests/conformance/run.sh does)")
		os.Exit(2)
	}
	if abs, err := filepath.Abs(bin); err == nil {
		bin = abs
	}
	if _, err := os.Stat(bin); err != nil {
		fmt.Fprintf(os.Stderr, "conformance: runtime %s: %v\n", bin, err)
		os.Exit(2)
	}
	checker = *flagChecker
	if checker == "" {
		checker = filepath.Join(filepath.Dir(os.Args[0]), "checker")
	}
	if _, err := os.Stat(checker); err != nil {
		fmt.Fprintf(os.Stderr, "conformance: checker %s: %v\n", checker, err)
		os.Exit(2)
	}
	var err error
	work = *flagWork
	if work == "" {
		work, err = os.MkdirTemp("", "conformance-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.MkdirAll(work, 0755)
	os.Chmod(work, 0755) // bundles must be reachable for containers whose root maps to another host uid
	runID = fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffff)
	rt = &Runtime{Bin: bin, Root: filepath.Join(work, "state"), Verbose: *flagVerbose}
	if *flagResults != "" {
		f, err := os.Create(*flagResults)
		if err == nil {
			defer f.Close()
			tap.results = f
		}
	}
	detectHost()
	fmt.Fprintf(tap.out, "TAP version 13\n# runtime: %s (%s)\n# work: %s\n", bin, rt.Version(), work)
	for _, l := range hostNotes() {
		tap.Note("%s", l)
	}
	var filter *regexp.Regexp
	if *flagRun != "" {
		filter = regexp.MustCompile(*flagRun)
	}
	start := time.Now()
	for _, c := range cases {
		if filter != nil && !filter.MatchString(c.area+"/"+c.name) {
			continue
		}
		tap.area, tap.name = c.area, c.name
		caseStart := time.Now()
		func() {
			defer func() {
				if r := recover(); r != nil {
					tap.Ok(false, "case completed", "panic: %v", r)
				}
			}()
			c.run(tap)
		}()
		rt.Cleanup()
		if *flagVerbose {
			tap.Note("%s/%s took %v", c.area, c.name, time.Since(caseStart).Round(time.Millisecond))
		}
	}
	tap.area, tap.name = "cleanup", ""
	leftovers := rt.ListLeft()
	tap.Ok(len(leftovers) == 0, "no container left in the state root", "left: %v", leftovers)
	cleanupCgroups()
	tap.Note("took %v", time.Since(start).Round(time.Millisecond))
	if !*flagKeep && *flagWork == "" {
		os.RemoveAll(work)
	}
	fmt.Fprintf(tap.out, "1..%d\n", tap.n)
	fmt.Fprintf(tap.out, "%d passed, %d failed, %d skipped\n", tap.pass, tap.fail, tap.skip)
	tap.out.Flush()
	if tap.fail > 0 {
		os.Exit(1)
	}
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
