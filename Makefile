# Capstan's build. `make run` runs Capstan; `make test` tests everything. Tools and the control-plane
# binaries are built once from the Go module proxy into ~/.cache/capstan (outside the checkout) and reused
# by every clone on the machine.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := build

GO ?= go
CACHE ?= $(or $(CAPSTAN_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/capstan)
export CAPSTAN_CACHE := $(CACHE)

CONTROLLER_GEN = $(shell hack/tools.sh controller-gen)
GOLANGCI_LINT = $(shell hack/tools.sh golangci-lint)
HELM = $(shell hack/tools.sh helm)

# The envtest assets dir (etcd, kube-apiserver, kubectl); built on first use by `make controlplane`.
ASSETS := $(shell hack/controlplane.sh assets)
export KUBEBUILDER_ASSETS := $(ASSETS)

TEST_TIMEOUT ?= 30m

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  %-16s %s\n", $$1, $$2} /^##@/ {printf "\n%s\n", substr($$0, 5)}' $(MAKEFILE_LIST)

##@ Build

# The build identity stamped into both binaries (internal/version); `capstan version` and
# `manager --version` print it.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# The commit's date, UTC: the timestamp of every file in the images, and the build date `make image`
# and `make release` stamp (unless BUILD_DATE is given), so that rebuilding a commit gives the
# same binaries and the same image digests.
COMMIT_DATE := $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo 1970-01-01T00:00:00Z)
REPRO_BUILD_DATE := $(if $(filter command line environment,$(origin BUILD_DATE)),$(BUILD_DATE),$(COMMIT_DATE))
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
VERSION_PKG := github.com/capstan-dev/capstan/internal/version
# The build tags of every binary (internal/version.BuildTags says why).
BUILD_TAGS := kustomize_disable_go_plugin_support
LDFLAGS := -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT) -X $(VERSION_PKG).date=$(BUILD_DATE)
RELEASE_LDFLAGS := -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT) -X $(VERSION_PKG).date=$(REPRO_BUILD_DATE)

.PHONY: build
build: ## Build bin/manager and bin/capstan, stamped with VERSION, COMMIT and BUILD_DATE.
	$(GO) build -trimpath -tags '$(BUILD_TAGS)' -ldflags '$(LDFLAGS)' -o bin/manager .
	$(GO) build -trimpath -tags '$(BUILD_TAGS)' -ldflags '$(LDFLAGS)' -o bin/capstan ./cmd/capstan

# Where images are named and pushed: IMAGE_REPO/capstan (the manager) and IMAGE_REPO/capstan-cli.
IMAGE_REPO ?=
IMAGE_DIR ?= bin/image
IMAGEBUILD = $(GO) run ./hack/imagebuild --version $(VERSION) --commit $(COMMIT) --created $(COMMIT_DATE) --build-date $(REPRO_BUILD_DATE)

.PHONY: image
image: ## Build the capstan (manager) and capstan-cli images for linux/amd64 and linux/arm64 into bin/image (OCI layouts, no Docker); with IMAGE_REPO, push them and pin config/default to the digest.
	$(IMAGEBUILD) --out $(IMAGE_DIR) $(if $(IMAGE_REPO),--repo $(IMAGE_REPO) --push --pin config/default/kustomization.yaml)

RELEASE_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
RELEASE_DIR = bin/release/$(VERSION)
# The registry install.yaml names the manager image under, by digest; IMAGE_REPO also pushes there.
RELEASE_IMAGE_REPO ?= $(or $(IMAGE_REPO),ghcr.io/capstan-dev)

.PHONY: release
release: release-binaries release-image release-install release-chart ## Release VERSION=x.y.z into bin/release/VERSION: binaries, images, install.yaml by digest, the chart if any; SHA256SUMS and ARTIFACTS.
	cd $(RELEASE_DIR) && sha256sum $$(find . -maxdepth 1 -type f ! -name SHA256SUMS ! -name ARTIFACTS -printf '%P\n' | sort) > SHA256SUMS
	( echo "# Capstan $(VERSION), commit $(COMMIT), built $(REPRO_BUILD_DATE)"; \
	  echo "# files: bytes, sha256"; \
	  cd $(RELEASE_DIR) && while read -r sum file; do printf '%-28s %10d  sha256:%s\n' "$$file" "$$(stat -c %s "$$file")" "$$sum"; done < SHA256SUMS; \
	  echo "# images (OCI layouts under image/): manifest, digest, bytes a pull downloads"; \
	  cat image/images.txt ) > $(RELEASE_DIR)/ARTIFACTS.tmp && mv $(RELEASE_DIR)/ARTIFACTS.tmp $(RELEASE_DIR)/ARTIFACTS
	@cat $(RELEASE_DIR)/ARTIFACTS

# `make release` starts from an empty directory; a single step (make release-chart VERSION=…)
# rewrites only its own files.
.PHONY: release-dir
release-dir:
	@if [ "$(origin VERSION)" != "command line" ] && [ "$(origin VERSION)" != "environment" ]; then \
	  echo "release: set VERSION, for example make release VERSION=0.1.0"; exit 1; fi
	$(if $(filter release,$(MAKECMDGOALS)),rm -rf $(RELEASE_DIR) &&) mkdir -p $(RELEASE_DIR)

.PHONY: release-binaries
release-binaries: release-dir ## The CLI and manager binaries of a release, per platform.
	for p in $(RELEASE_PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -tags '$(BUILD_TAGS)' -ldflags '$(RELEASE_LDFLAGS)' -o $(RELEASE_DIR)/capstan-$$os-$$arch ./cmd/capstan; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -tags '$(BUILD_TAGS)' -ldflags '$(RELEASE_LDFLAGS)' -o $(RELEASE_DIR)/manager-$$os-$$arch .; \
	done

# release-image pins an overlay of config/default (bin/.release-install) to the manager image's
# digest; release-install renders it.
.PHONY: release-image
release-image: release-dir ## The images of a release as OCI layouts in bin/release/VERSION/image (pushed when IMAGE_REPO is set).
	rm -rf bin/.release-install && mkdir -p bin/.release-install
	printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../config/default\n' > bin/.release-install/kustomization.yaml
	$(IMAGEBUILD) --out $(RELEASE_DIR)/image --repo $(RELEASE_IMAGE_REPO) $(if $(IMAGE_REPO),--push) --pin bin/.release-install/kustomization.yaml

.PHONY: release-install
release-install: release-image ## install.yaml: config/default with the release's manager image by digest.
	kubectl kustomize bin/.release-install > $(RELEASE_DIR)/install.yaml
	rm -rf bin/.release-install

# The hook for Capstan's own chart (issue 16): package charts/capstan at the release's version when
# the chart exists.
.PHONY: release-chart
release-chart: release-dir ## Package charts/capstan (when it exists) at VERSION into the release directory.
	@if [ -d charts/capstan ]; then \
	  SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 0) $(GO) run ./cmd/capstan package charts/capstan \
	    --version $(VERSION) --app-version $(VERSION) --destination $(RELEASE_DIR); \
	else echo "release-chart: no charts/capstan in this tree; no chart in this release"; fi

.PHONY: manifests
manifests: ## Generate CRDs and RBAC from the API markers, and the copies of them in charts/capstan and config/monitoring.
	$(CONTROLLER_GEN) rbac:roleName=capstan-manager crd paths=./... output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	hack/sync-manifests.sh

.PHONY: generate
generate: ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: verify
verify: manifests generate ## Regenerate, then fail if the tree changed.
	@if [ -n "$$(git status --porcelain -- api config charts)" ]; then \
	  echo "generated files are out of date; run 'make manifests generate' and commit:"; \
	  git status --porcelain -- api config charts; git diff --stat -- api config charts; exit 1; fi

.PHONY: metrics-doc
metrics-doc: controlplane ## Rewrite the metric reference in docs/operations.md from the manager's registry (envtest).
	CAPSTAN_UPDATE_DOCS=1 $(GO) test -count=1 -run '^TestMetrics_exportedByTheManager$$' ./test/monitoring/

.PHONY: fmt
fmt: ## gofmt the tree.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## go vet.
	$(GO) vet ./...

.PHONY: lint
lint: ## golangci-lint with the linters in .golangci.yml.
	$(GOLANGCI_LINT) run --allow-serial-runners ./...

##@ Test

.PHONY: controlplane
controlplane: ## Build (once) etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok.
	hack/controlplane.sh build >/dev/null

.PHONY: test
test: controlplane verify vet lint test-unit test-e2e ## Everything CI runs.

.PHONY: test-unit
test-unit: controlplane ## Unit, envtest and conformance tests.
	HELM=$(HELM) GO=$(GO) hack/gotest.sh -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v /test/e2e)

.PHONY: test-e2e
test-e2e: controlplane ## End-to-end stories: bin/manager against a local control plane, driven with kubectl.
	@if [ -d test/e2e ]; then HELM=$(HELM) GO=$(GO) hack/gotest.sh -timeout $(TEST_TIMEOUT) ./test/e2e/...; \
	else echo "test-e2e: no end-to-end suite yet"; fi

.PHONY: chaos
chaos: controlplane ## Crash-consistency proof, long mode: 200+ SIGKILLs of bin/manager (failpoints build) with invariants checked.
	CAPSTAN_CHAOS=long $(GO) test -v -count=1 -timeout 120m -run TestChaos ./test/chaos/

# The README's scale figure is measured at 1,000 Releases; the output of the last run is kept.
CAPSTAN_SCALE_RELEASES ?= 1000
BENCH_OUT ?= bin/bench.txt

.PHONY: bench
bench: ## Benchmarks in one table, failing past test/scale/thresholds.yaml (CAPSTAN_SCALE_RELEASES=N, default 1000).
	mkdir -p bin
	HELM=$(HELM) $(GO) test -run '^$$' -bench . -benchmem ./internal/engine/ ./internal/repo/ ./internal/ocisign/ ./test/conformance/ | tee $(BENCH_OUT)
	CAPSTAN_SCALE_RELEASES=$(CAPSTAN_SCALE_RELEASES) $(GO) test -run '^$$' -bench '^BenchmarkReleasesToReady$$' -benchtime 1x -timeout 60m ./test/scale/ | tee -a $(BENCH_OUT)
	$(GO) run ./test/scale/cmd/benchcheck -thresholds test/scale/thresholds.yaml $(BENCH_OUT)

CAPSTAN_BENCH_N ?= 100

.PHONY: bench-scale
bench-scale: build controlplane ## bin/manager on a local kwok cluster vs the kubectl floor (CAPSTAN_BENCH_N=100,1000,5000; see docs/performance.md).
	CAPSTAN_BENCH_N=$(CAPSTAN_BENCH_N) $(GO) test -count=1 -v -timeout 0 -run '^$$' -bench '^BenchmarkClusterScale$$' -benchtime 1x ./test/scale/

.PHONY: golden
golden: ## Regenerate conformance golden files with the reference helm binary.
	HELM=$(HELM) hack/golden.sh

##@ Run

.PHONY: run
run: build controlplane ## Run Capstan (on a local control plane when KUBECONFIG is unset).
	hack/run.sh

.PHONY: cluster-up
cluster-up: controlplane ## Start the local control plane (etcd, apiserver, controller-manager, scheduler, kwok).
	hack/local-cluster.sh up

.PHONY: cluster-down
cluster-down: ## Stop the local control plane (its state stays in ~/.cache/capstan/cluster).
	hack/local-cluster.sh down

.PHONY: clean
clean: ## Remove build output (not the binary cache).
	rm -rf bin
