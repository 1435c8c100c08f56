// Package reconcile is the Release state machine. For one Release it gathers the facts (the chart
// version and digest the referenced ChartRepository resolves, the values composed from chart
// defaults, valuesFrom and spec.values, the revision records in storage, the annotations and
// failure counters in status), decides in one pure function what to do (install, upgrade, roll
// back, remediate, correct drift, uninstall or nothing), and carries the decision out: render,
// size-check the record, check ownership and dry-run every object before anything is written,
// then record the revision as pending, run hooks, apply, wait, prune, record the revision as
// deployed and prune history. Every outcome is summarised into kstatus-compatible conditions in
// one place, with events for what happened and nothing written when nothing changed.
//
// It owns the Release reconcile logic only; fetching charts, rendering, applying, waiting and
// running hooks are the collaborators' work, passed in as small interfaces. The files named
// repository*.go belong to the ChartRepository controller.
package reconcile
