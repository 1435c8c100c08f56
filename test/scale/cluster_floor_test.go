package scale

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// floorPlaceholder is the release name the floor's manifests are rendered with once, then
// replaced by each Release's name: rendering N times would measure the renderer, not the cluster.
const floorPlaceholder = "floorplaceholder"

// floorPhases applies the benchmark chart's N×5 objects with `kubectl apply --server-side`, no
// manager running, and waits for every Deployment to be available; then the same with the
// upgraded values (unless withUpgrade is false). This is the floor: what the cluster itself takes
// for the same objects.
func (b *clusterBench) floorPhases(ctx context.Context, withUpgrade bool) (install, upgrade benchRow) {
	chartDir := writeBenchChart(b.t)
	install = b.floorPhase(ctx, "install", b.renderFloor(ctx, chartDir, "hello"), nil)
	fmt.Println(install)
	if !withUpgrade {
		return install, upgrade
	}
	gens, err := b.floor.generations(ctx, &appsv1.DeploymentList{})
	b.must(err)
	upgrade = b.floorPhase(ctx, "upgrade", b.renderFloor(ctx, chartDir, "upgraded"), gens)
	return install, upgrade
}

// renderFloor renders the chart once with `capstan template` and the given message.
func (b *clusterBench) renderFloor(ctx context.Context, chartDir, message string) string {
	out, err := exec.CommandContext(ctx, b.s.cliBin, "template", floorPlaceholder, chartDir,
		"--namespace", floorNamespace, "--set", "message="+message).Output()
	if err != nil {
		b.t.Fatalf("capstan template: %v", err)
	}
	return string(out)
}

// floorPhase writes the manifest for every Release into files of floorBatch Releases each,
// applies them with floorParallel kubectl processes at once (each taking the next file when it
// is done), and waits until every Deployment's rollout is done. gens holds the Deployments'
// generations before an upgrade (nil for the install).
func (b *clusterBench) floorPhase(ctx context.Context, name, manifest string, gens map[string]int64) benchRow {
	files := b.floorFiles(manifest)
	b.floor.reset()
	before, err := scrapeServerWrites(ctx, b.cfg)
	b.must(err)
	start := time.Now()
	for i := range b.n {
		b.floor.expect(releaseName(i), gens[releaseName(i)]+1, start)
	}
	next := make(chan string, len(files))
	for _, f := range files {
		next <- f
	}
	close(next)
	parallel := min(b.s.floorParallel, len(files))
	var wg sync.WaitGroup
	errs := make([]error, parallel)
	for i := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range next {
				cmd := exec.CommandContext(ctx, "kubectl", "--kubeconfig", b.cluster.Kubeconfig, "apply", "--namespace", floorNamespace,
					"--server-side", "--field-manager=capstan-bench-floor", "-f", f)
				if out, err := cmd.CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("kubectl apply -f %s: %w\n%s", f, err, out)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		b.must(err)
	}
	applied := time.Since(start)
	took, err := b.floor.wait(ctx, fmt.Sprintf("N=%d floor %s", b.n, name), b.s.timeoutFor(b.n))
	b.must(err)
	wall := time.Since(start)
	after, err := scrapeServerWrites(ctx, b.cfg)
	b.must(err)
	writes := after.minus(before).sum(chartObject)
	fmt.Printf("N=%d floor %s: applied in %.1f s, all available after %.1f s (load average %s)\n",
		b.n, name, applied.Seconds(), wall.Seconds(), loadAverage())
	return benchRow{n: b.n, system: "floor " + name + " (kubectl ×" + fmt.Sprint(min(b.s.floorParallel, len(files))) + ")", wall: wall,
		p50: percentile(took, 50), p90: percentile(took, 90), cpu: -1,
		writes: fmt.Sprintf("%.1f", writes/float64(b.n)), idleCPU: "—"}
}

// floorBatch is how many Releases' objects one kubectl process applies: kubectl reads and maps
// every object of its file before it sends the first, so a file of thousands of objects starts
// minutes late (at N = 5,000 in four files, nothing reached the cluster for 8 minutes).
const floorBatch = 100

// floorFiles writes the N copies of manifest, one per Release, floorBatch Releases to a file, or
// fewer when that leaves a kubectl process without a file.
func (b *clusterBench) floorFiles(manifest string) []string {
	dir := b.t.TempDir()
	batch := min(floorBatch, max(1, (b.n+b.s.floorParallel-1)/max(b.s.floorParallel, 1)))
	var files []string
	for first := 0; first < b.n; first += batch {
		var w strings.Builder
		for i := first; i < min(first+batch, b.n); i++ {
			w.WriteString(strings.ReplaceAll(manifest, floorPlaceholder, releaseName(i)))
			w.WriteString("\n---\n")
		}
		f := filepath.Join(dir, fmt.Sprintf("floor-%d.yaml", len(files)))
		b.must(os.WriteFile(f, []byte(w.String()), 0o600))
		files = append(files, f)
	}
	return files
}
