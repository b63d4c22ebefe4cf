package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/token/tokentest"
)

// The flow benchmarks start moto and run whole flows behind 50 ms proxies,
// which takes a while; `make bench` runs them through scripts/bench.sh with
// GITLAB_OIDC_BENCH_FLOWS=1, and the generic `go test -bench .` skips them.
func flowReps(b *testing.B) int {
	if os.Getenv("GITLAB_OIDC_BENCH_FLOWS") == "" {
		b.Skip("set GITLAB_OIDC_BENCH_FLOWS=1 (scripts/bench.sh does) to measure whole flows against moto")
	}
	reps, err := strconv.Atoi(os.Getenv("GITLAB_OIDC_BENCH_REPS"))
	if err != nil || reps <= 0 {
		reps = 5
	}
	return reps
}

// BenchmarkFlows measures setup (first run and re-run, each as Connect,
// Preview and Apply) and doctor online with every probe, each in a fresh
// world per repetition, and prints a table of medians.
func BenchmarkFlows(b *testing.B) {
	reps := flowReps(b)
	ctx := context.Background()
	byFlow := map[string][]Measurement{}
	var order []string
	add := func(ms ...Measurement) {
		for _, m := range ms {
			if _, ok := byFlow[m.Flow]; !ok {
				order = append(order, m.Flow)
			}
			byFlow[m.Flow] = append(byFlow[m.Flow], m)
		}
	}
	var latency time.Duration
	for range b.N {
		for range reps {
			w := NewWorld(b, WorldOptions{})
			latency = w.Latency()
			first, err := w.Setup(ctx, "setup-first")
			if err != nil {
				b.Fatal(err)
			}
			rerun, err := w.Setup(ctx, "setup-rerun")
			if err != nil {
				b.Fatal(err)
			}
			if writes := w.AWSCalls.Writes(); len(writes) > 0 {
				b.Fatalf("the re-run's apply wrote to AWS: %v", writes)
			}
			add(first...)
			add(Total("setup-first/total", first))
			add(rerun...)
			add(Total("setup-rerun/total", rerun))
			m, findings, err := w.Doctor(ctx, w.DoctorOptions(roleARN(w)))
			if err != nil {
				b.Fatal(err)
			}
			if len(findings) == 0 {
				b.Fatal("doctor found nothing for a job that failed with AccessDenied")
			}
			add(m)
		}
	}
	printTable(b, latency, order, byFlow)
	worst := 0.0
	for _, runs := range byFlow {
		worst = max(worst, median(runs, Measurement.Ratio))
	}
	b.ReportMetric(worst, "worst-ratio")
}

// BenchmarkAudit100 audits an account of 100 GitLab roles.
func BenchmarkAudit100(b *testing.B) {
	reps := flowReps(b)
	ctx := context.Background()
	w := NewWorld(b, WorldOptions{})
	if err := w.SeedAuditRoles(ctx, 100); err != nil {
		b.Fatal(err)
	}
	var ms []Measurement
	for range b.N {
		for range reps {
			m, rep, err := w.Audit(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if len(rep.Roles) != 100 {
				b.Fatalf("audited %d roles, want 100 (notes %v)", len(rep.Roles), rep.Notes)
			}
			ms = append(ms, m)
		}
	}
	printTable(b, w.Latency(), []string{"audit/100-roles"}, map[string][]Measurement{"audit/100-roles": ms})
	med := median(ms, func(m Measurement) float64 { return float64(m.Busy) / float64(diagnose.DefaultAuditConcurrency) })
	wall := median(ms, func(m Measurement) float64 { return float64(m.Wall) })
	fmt.Printf("FLOW %-22s bounded by %d roles in flight the calls need at least %v: wall/that = %.2f\n", "audit/100-roles",
		diagnose.DefaultAuditConcurrency, time.Duration(med).Round(time.Millisecond), wall/med)
	b.ReportMetric(wall/med, "wall/bounded")
}

// roleARN is the role setup created in w.
func roleARN(w *World) string {
	conn, err := w.Runner.Connect(context.Background())
	if err != nil || conn.Existing.RoleARN == "" {
		return "arn:aws:iam::123456789012:role/missing"
	}
	return conn.Existing.RoleARN
}

func median(ms []Measurement, f func(Measurement) float64) float64 {
	vals := make([]float64, len(ms))
	for i, m := range ms {
		vals[i] = f(m)
	}
	sort.Float64s(vals)
	if len(vals) == 0 {
		return 0
	}
	if len(vals)%2 == 1 {
		return vals[len(vals)/2]
	}
	return (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
}

// printTable prints one line per flow with the medians over the
// repetitions, in a form scripts/bench.sh copies into its summary, and the
// calls that waited for one they did not need.
func printTable(b *testing.B, latency time.Duration, order []string, byFlow map[string][]Measurement) {
	ms := func(d float64) string { return strconv.FormatFloat(d/float64(time.Millisecond), 'f', 0, 64) }
	fmt.Printf("FLOW %-22s %5s %5s %5s %9s %9s %9s %6s %8s\n", "flow", "calls", "waves", "chain", "chain*lat", "critical", "wall", "ratio", "inflight")
	for _, name := range order {
		runs := byFlow[name]
		fmt.Printf("FLOW %-22s %5.0f %5.0f %5.0f %9s %9s %9s %6.2f %8.0f\n", name,
			median(runs, func(m Measurement) float64 { return float64(m.Calls) }),
			median(runs, func(m Measurement) float64 { return float64(m.Waves) }),
			median(runs, func(m Measurement) float64 { return float64(m.Chain) }),
			ms(median(runs, func(m Measurement) float64 { return float64(time.Duration(m.Chain) * latency) })),
			ms(median(runs, func(m Measurement) float64 { return float64(m.Critical) })),
			ms(median(runs, func(m Measurement) float64 { return float64(m.Wall) })),
			median(runs, Measurement.Ratio),
			median(runs, func(m Measurement) float64 { return float64(m.MaxInFlight) }))
		last := runs[len(runs)-1]
		if len(last.Avoidable) > 0 && !strings.HasSuffix(name, "/total") {
			fmt.Printf("  %s: required chain %s\n", name, strings.Join(last.ChainCalls, " -> "))
			for _, a := range countSame(last.Avoidable) {
				fmt.Printf("  %s: %s\n", name, a)
			}
		}
	}
}

// countSame folds repeated lines into one with a count, keeping order.
func countSame(lines []string) []string {
	n := map[string]int{}
	var order []string
	for _, l := range lines {
		if n[l] == 0 {
			order = append(order, l)
		}
		n[l]++
	}
	for i, l := range order {
		if n[l] > 1 {
			order[i] = fmt.Sprintf("%s (%d times)", l, n[l])
		}
	}
	return order
}

// BenchmarkDoctorOffline is the doctor on a typical pasted input (token,
// job log, trust policy, pipeline file) with no network: what a person
// waits for after pressing enter on the offline doctor.
func BenchmarkDoctorOffline(b *testing.B) {
	in := typicalOfflineInput(b)
	b.ReportAllocs()
	for b.Loop() {
		ev, err := diagnose.Collect(context.Background(), in(), diagnose.Sources{})
		if err != nil {
			b.Fatal(err)
		}
		if len(diagnose.Diagnose(ev)) == 0 {
			b.Fatal("no findings")
		}
	}
}

// typicalOfflineInput is a token from a tag pipeline, a trust policy that
// only allows main, the job's log and its pipeline file.
func typicalOfflineInput(b *testing.B) func() diagnose.CollectOptions {
	b.Helper()
	dir := b.TempDir()
	ci := filepath.Join(dir, ".gitlab-ci.yml")
	log, err := os.ReadFile(filepath.Join("testdata", "doctor-offline", "job.log"))
	if err != nil {
		b.Fatal(err)
	}
	trust, err := os.ReadFile(filepath.Join("testdata", "doctor-offline", "trust.json"))
	if err != nil {
		b.Fatal(err)
	}
	pipeline, err := os.ReadFile(filepath.Join("testdata", "doctor-offline", "gitlab-ci.yml"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(ci, pipeline, 0o644); err != nil {
		b.Fatal(err)
	}
	tok := tokentest.NewSigner(b).Sign(tokentest.GitLabClaims(map[string]any{
		"sub": "project_path:acme/payments:ref_type:tag:ref:v2.3.0", "ref": "v2.3.0", "ref_type": "tag", "ref_path": "refs/tags/v2.3.0",
	}))
	return func() diagnose.CollectOptions {
		return diagnose.CollectOptions{
			Token: tok, TokenGiven: true, TokenSource: "--token",
			ErrorText: "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity",
			JobLog:    strings.NewReader(string(log)), RoleARN: "arn:aws:iam::123456789012:role/gitlab-ci-acme-payments",
			TrustPolicy: trust, TrustPolicySource: "trust.json", CIFile: ci, Offline: true,
			ProviderURL: "https://gitlab.com", ClientIDs: []string{"sts.amazonaws.com"},
		}
	}
}
