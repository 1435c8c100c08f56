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

// floorPhase writes the manifest for every Release into floorParallel files, applies them with
// as many kubectl processes at once, and waits until every Deployment's rollout is done. gens
// holds the Deployments' generations before an upgrade (nil for the install).
func (b *clusterBench) floorPhase(ctx context.Context, name, manifest string, gens map[string]int64) benchRow {
	files := b.floorFiles(manifest)
	b.floor.reset()
	before, err := scrapeServerWrites(ctx, b.cfg)
	b.must(err)
	start := time.Now()
	for i := range b.n {
		b.floor.expect(releaseName(i), gens[releaseName(i)]+1, start)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(files))
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, "kubectl", "--kubeconfig", b.cluster.Kubeconfig, "apply", "--namespace", floorNamespace,
				"--server-side", "--field-manager=capstan-bench-floor", "-f", f)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("kubectl apply -f %s: %w\n%s", f, err, out)
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
	return benchRow{n: b.n, system: "floor " + name + " (kubectl ×" + fmt.Sprint(len(files)) + ")", wall: wall,
		p50: percentile(took, 50), p90: percentile(took, 90), cpu: -1,
		writes: fmt.Sprintf("%.1f", writes/float64(b.n)), idleCPU: "—"}
}

// floorFiles writes the N copies of manifest, one per Release, spread over floorParallel files.
func (b *clusterBench) floorFiles(manifest string) []string {
	dir := b.t.TempDir()
	parts := min(b.s.floorParallel, b.n)
	builders := make([]strings.Builder, parts)
	for i := range b.n {
		w := &builders[i%parts]
		w.WriteString(strings.ReplaceAll(manifest, floorPlaceholder, releaseName(i)))
		w.WriteString("\n---\n")
	}
	files := make([]string, parts)
	for i := range builders {
		files[i] = filepath.Join(dir, fmt.Sprintf("floor-%d.yaml", i))
		b.must(os.WriteFile(files[i], []byte(builders[i].String()), 0o600))
	}
	return files
}
