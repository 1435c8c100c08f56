package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/health"
	"github.com/capstan-dev/capstan/internal/storage"
)

// How long a waiting Release goes without looking at its objects: when watches cover them, a
// change wakes it at once (an event between the apply and the wait's listing included, see
// waitRegistry.expect), so this only bounds what no known path loses, such as a watch connection
// that hangs without closing; when they cannot be watched (the identity may not, or no watches
// are configured), it is the poll interval. Each recheck of a watched wait reads the objects
// still awaited: at 30 s, 0.8 Deployment reads per installed Release at 1,000 Releases.
const (
	watchedRecheck = 2 * time.Minute
	polledRecheck  = 2 * time.Second
)

// waiting is an install, upgrade or rollback whose objects are applied and whose health is
// awaited. It lives in memory between reconciles, so that no worker sleeps while objects become
// ready: each reconcile of the Release looks once and either concludes the action or parks it
// again. Its attempt stays registered as running in this process meanwhile, so the pending
// record is not taken for an interrupted one; a process that dies while Releases wait leaves
// their records pending with attempts nobody runs, and the next leader recovers them as
// interrupted, as it would after a crash during a wait that held a worker.
type waiting struct {
	// s is the session that applied: its client, store, redactor and decision. The records it
	// loaded are dropped when the wait parks (previous keeps what the conclusion needs of them).
	s       *session
	p       *plan
	key     types.NamespacedName
	uid     types.UID
	attempt string
	applied []apply.ObjectRef
	// generation is the Release's metadata.generation the action was decided for.
	generation int64
	deadline   time.Time
	timeout    time.Duration
	// waiter looks at the objects, through the Release's client.
	waiter Waiter
	// report is the last look: the objects still awaited.
	report health.Report
	// judged says that report already judges every object from what the apply's writes returned,
	// so the first look is not needed: the wait parks until a watched object changes.
	judged bool
	// seen holds, by apply.ObjectRef.ID, the awaited objects as the last watch event of each
	// delivered them since the last look (guarded by the registry's mutex): the next look judges
	// them without reading them.
	seen map[string]*unstructured.Unstructured
	// watched says whether watches cover every awaited object; unwatch gives them back.
	watched bool
	unwatch func()
	// appliedVersions holds, by apply.ObjectRef.ID, the resourceVersion of each object as its
	// apply answered: the events kept before the wait was listed count from the one of that
	// version (afterApply).
	appliedVersions map[string]string
}

// newWaiting starts the wait of a revision whose objects s just applied.
func (r *Reconciler) newWaiting(ctx context.Context, s *session, p *plan, attempt string, applied []apply.ObjectRef) *waiting {
	timeout := s.rel.GetTimeout()
	waiter := r.NewWaiter(s.target)
	var written map[string]*unstructured.Unstructured
	if p.applier != nil {
		written = p.applier.TakeWritten()
	}
	report, judged := startReport(health.WithChecks(ctx, s.healthChecks), waiter, p.objectRefs(), written)
	w := &waiting{s: s, p: p, key: client.ObjectKeyFromObject(s.rel), uid: s.rel.UID, attempt: attempt,
		applied: applied, generation: s.rel.Generation, timeout: timeout, waiter: waiter,
		report: report, judged: judged, appliedVersions: make(map[string]string, len(written))}
	for id, obj := range written {
		w.appliedVersions[id] = obj.GetResourceVersion()
	}
	if timeout > 0 {
		w.deadline = r.now().Add(timeout)
	}
	return w
}

// startReport is the report a wait starts from, and whether it judged every object: the
// Waiter's own when it has one (health.Checker judges the objects from what their writes
// returned, and counts the kinds that are ready once they exist as ready after the apply), else
// every object not checked yet.
func startReport(ctx context.Context, w Waiter, refs []apply.ObjectRef, written map[string]*unstructured.Unstructured) (health.Report, bool) {
	if s, ok := w.(interface {
		AfterWrite(context.Context, []apply.ObjectRef, map[string]*unstructured.Unstructured) (health.Report, bool)
	}); ok {
		return s.AfterWrite(ctx, refs, written)
	}
	return health.NotChecked(refs), false
}

// resume hands the waiting session the Release as read by this reconcile.
func (w *waiting) resume(rel *capstanv1.Release, p *StatusPatcher) *session {
	w.s.rel, w.s.patcher = rel, p
	return w.s
}

// await looks once at the objects still awaited. When they are all ready, it runs the post hooks
// and concludes the action as deployed; when one failed, when a read cannot succeed, or when the
// timeout ran out, it concludes it as failed. Otherwise the wait parks until a watched object
// changes or the recheck delay passes, and a ClassProgressing error says so.
func (s *session) await(ctx context.Context, w *waiting) error {
	parked := false
	defer func() {
		if !parked {
			s.r.dropWait(w)
			if w.unwatch != nil {
				w.unwatch()
			}
			s.r.endAttempt(w.attempt)
		}
	}()
	if ShuttingDown(ctx) {
		return s.interrupt(ctx, w.p)
	}
	// The checks of the generation that applied: a resumed wait judges the revision it awaits.
	ctx = health.WithChecks(ctx, s.healthChecks)
	report, err := w.report, error(nil)
	if w.judged {
		// Judged from the writes' answers a moment ago: reading the objects again now would
		// almost always find them as written, so the wait parks until a watched one changes.
		w.judged = false
	} else {
		report, err = w.waiter.Look(health.WithSeen(ctx, s.r.waits.takeSeen(w)), w.report.Pending(), w.report)
	}
	switch {
	case err != nil && ShuttingDown(ctx):
		return s.interrupt(ctx, w.p)
	case err != nil:
		return s.conclude(ctx, w.p, w.applied, healthFailure(err))
	case len(report.Failed()) > 0:
		return s.conclude(ctx, w.p, w.applied, healthFailure(&health.FailedError{Report: report}))
	case report.Ready():
		return s.finish(ctx, w.p, w.applied)
	}
	now := s.r.now()
	if !w.deadline.IsZero() && !now.Before(w.deadline) {
		return s.conclude(ctx, w.p, w.applied, healthFailure(&health.TimeoutError{Timeout: w.timeout, Report: report}))
	}
	w.report = report
	if err := s.park(ctx, w); err != nil {
		return err
	}
	parked = true
	recheck := polledRecheck
	if w.watched {
		recheck = watchedRecheck
	}
	if !w.deadline.IsZero() {
		recheck = min(recheck, w.deadline.Sub(now))
	}
	return progressing(recheck, fmt.Errorf("waiting for %d of %d objects to become ready: %s",
		len(report.NotReady), report.Checked, report.Summary()))
}

// concludeResumed looks again at the objects of a parked wait, in a later reconcile than the one
// that applied them, and ends that reconcile as the one that applied would have ended: a
// remediation stalls once its rollback is done. A Release whose spec changed meanwhile is not
// Ready for the new generation by the conclusion of the old one: it is reconciled again at once.
func (s *session) concludeResumed(ctx context.Context, w *waiting) error {
	err := s.await(ctx, w)
	switch {
	case err != nil:
		return err
	case w.p.remediation:
		return stallErr(capstanv1.RetriesExhaustedReason, errors.New(s.exhaustedMessage()))
	case s.rel.Generation != w.generation:
		return progressing(time.Millisecond, fmt.Errorf("revision %d concluded; generation %d is still to be reconciled",
			w.p.record.Version, s.rel.Generation))
	}
	return nil
}

// healthFailure is how a failed wait fails the revision.
func healthFailure(err error) error {
	return transientErr(capstanv1.HealthCheckFailedReason, fmt.Errorf("waiting for the release's objects: %w", err))
}

// park keeps the wait for a later reconcile: it is registered, and the first time its objects
// are watched. What the conclusion needs of the records is kept (summaries of them, and the
// objects the release may own), their content is not.
func (s *session) park(ctx context.Context, w *waiting) error {
	first := w.unwatch == nil
	if first {
		previous, err := s.previousRefs(ctx)
		if err != nil {
			return err
		}
		s.previous, s.previousKnown, s.deployed = previous, true, nil
		for i, r := range s.records {
			s.records[i] = r.Summary()
		}
		s.userValues = nil
		w.p.slim()
	}
	// Listed before its objects are watched, so the first events find it; an event after the
	// apply's own that came before is handed over, and wakes it.
	if s.r.waits.put(w) && s.r.Enqueue != nil {
		s.r.Enqueue(w.key)
	}
	if first {
		w.unwatch, w.watched = func() {}, false
		if s.r.Watches != nil && s.r.Enqueue != nil {
			w.unwatch, w.watched = s.r.Watches.Watch(s.target, s.targetID, w.report.Pending())
		}
	}
	return nil
}

// identity names who a Release's client acts as, for sharing watches between Releases.
func (r *Reconciler) identity(rel *capstanv1.Release) string {
	if id, ok := r.Clients.(interface {
		Identity(*capstanv1.Release) string
	}); ok {
		return "user:" + id.Identity(rel)
	}
	return "release:" + string(rel.UID)
}

// ObjectChanged wakes the Releases waiting for the object (Watches call it for every event), and
// keeps obj, the object as the event delivered it (nil: deleted), for their next look.
func (r *Reconciler) ObjectChanged(ref apply.ObjectRef, obj *unstructured.Unstructured) {
	if r.Enqueue == nil {
		return
	}
	for _, key := range r.waits.changed(ref, obj) {
		r.Enqueue(key)
	}
}

// Abandon ends the wait of a Release that is being deleted or was suspended: its revision is
// marked failed as interrupted (as recovery would mark it), so the uninstall, or helm, finds no
// operation in progress. It does nothing for a Release that does not wait.
func (r *Reconciler) Abandon(ctx context.Context, rel *capstanv1.Release) {
	r.waits.unhold(client.ObjectKeyFromObject(rel))
	if w := r.waits.take(rel.UID); w != nil {
		r.interruptWait(ctx, w)
	}
}

// InterruptWaits marks the revision of every waiting Release failed as interrupted, as a
// graceful shutdown does with the revision a reconcile was working on, so that a manager stopped
// gracefully leaves no pending record. A wait a reconcile is looking at just now is that
// reconcile's to finish.
func (r *Reconciler) InterruptWaits(ctx context.Context) int {
	all := r.waits.takeAll()
	for _, w := range all {
		r.interruptWait(ctx, w)
	}
	return len(all)
}

func (r *Reconciler) interruptWait(ctx context.Context, w *waiting) {
	fresh, cancel := Fresh(ctx)
	defer cancel()
	storage.MarkInterrupted(w.p.record)
	if err := w.s.store.UpdateStatus(fresh, w.p.record); err != nil {
		crlog.FromContext(ctx).Info("could not record the interrupted revision; the next reconcile recovers it",
			"release", w.key.String(), "revision", w.p.record.Version, "error", err.Error())
	}
	r.dropWait(w)
	if w.unwatch != nil {
		w.unwatch()
	}
	r.endAttempt(w.attempt)
}

// dropWait forgets a wait that ended and wakes the Release held longest for its place.
func (r *Reconciler) dropWait(w *waiting) {
	if key, ok := r.waits.drop(w); ok && r.Enqueue != nil {
		r.Enqueue(key)
	}
}

// unreserve gives back the place admit reserved for s's Release when its action ended without
// parking, waking the Release held longest.
func (s *session) unreserve() {
	if key, ok := s.r.waits.unreserve(client.ObjectKeyFromObject(s.rel)); ok && s.r.Enqueue != nil {
		s.r.Enqueue(key)
	}
}

// heldRecheck is how long a held Release waits before asking again if no wait ending wakes it
// first (a wake is lost when the Release that was woken no longer needs the place).
const heldRecheck = 30 * time.Second

// admit lets s start an install or upgrade if fewer than Options.MaxWaiting waits are under way;
// otherwise s's Release is held in line and a ClassProgressing error says so: nothing is applied
// or written, and the first wait that ends wakes it. Bounding the waits keeps Capstan from
// applying faster than the cluster rolls out: past the cluster's pace every Release would only
// wait longer, and at thousands of Releases the waits ran past their timeouts.
func (s *session) admit() error {
	ok, n := s.r.waits.admit(client.ObjectKeyFromObject(s.rel), s.r.Options.MaxWaiting)
	if ok {
		return nil
	}
	return heldErr(n)
}

// stillHeld ends a reconcile of a Release held in line before it reads anything, while no place
// is free: admit would refuse it again. Before, every recheck of a held Release listed its
// records and read its inputs for nothing: at 5,000 Releases, about eight record lists each.
//
// A Release whose spec generation was not reconciled yet (a new one, or one whose spec changed)
// joins the line the same way before reading anything, when every place is taken: such a
// reconcile almost always ends in an install or upgrade, which admit would refuse after the
// reads. Before, each of them listed its records twice, once to be refused and once when its
// turn came. One whose change turns out to need no apply only waits its turn for nothing.
func (s *session) stillHeld(context.Context) error {
	key, limit := client.ObjectKeyFromObject(s.rel), s.r.Options.MaxWaiting
	held, n := s.r.waits.stillHeld(key, limit)
	if !held && s.rel.Generation != s.rel.Status.ObservedGeneration {
		held, n = s.r.waits.holdIfFull(key, limit)
	}
	if held {
		return heldErr(n)
	}
	return nil
}

// heldErr says that a Release waits in line, with n waits under way.
func heldErr(n int) error {
	return progressing(heldRecheck, fmt.Errorf("held: %d releases are waiting for their objects to become ready, the most allowed (--max-waiting-releases)", n))
}

// waitRegistry holds the parked waits by Release, and which Releases wait for which object.
type waitRegistry struct {
	mu     sync.Mutex
	parked map[types.UID]*waiting
	// byObject maps an object (apply.ObjectRef.ID) to the waits that await it, parked or being
	// looked at: an event during a look must still wake the Release.
	byObject map[string]map[*waiting]bool
	// indexed holds the object IDs each wait is listed under in byObject: it has an entry for
	// every wait that has not ended, parked or being looked at.
	indexed map[*waiting][]string
	// held are the Releases refused by admit, oldest first, each once; a wait that ends wakes
	// the oldest.
	held    []types.NamespacedName
	heldSet map[types.NamespacedName]bool
	// reserved are the Releases admitted whose action has not parked or ended yet: they count
	// against the limit, so that the workers admitting at once cannot overshoot it.
	reserved map[types.NamespacedName]bool
	// expecting counts, by object ID, the reconciles about to apply the object and then wait
	// for it; early keeps, for those objects, the events that came before a wait on it was
	// listed, in the order of delivery, for put to hand the wait those after its apply's own.
	// Without it, a change between the apply and the listing would be seen only by the recheck.
	// Each is the object as the event carried it, nil when it was deleted.
	expecting map[string]int
	early     map[string][]*unstructured.Unstructured
}

// maxEarly bounds the events kept per expected object; past it the oldest go, and with them,
// maybe, the apply's own event that orders the rest: the wait then gets none (see afterApply).
const maxEarly = 16

// afterApply returns the latest of evs if an event of the applied version came before it: a
// watch delivers an object's events in the order of its versions, so that one is newer than what
// the apply answered. Events before the apply's own, or with no apply's own to order them (the
// apply changed nothing, or its event was dropped), tell nothing certain and are left out.
func afterApply(evs []*unstructured.Unstructured, applied string) (*unstructured.Unstructured, bool) {
	for i := len(evs) - 2; i >= 0; i-- {
		if evs[i] != nil && evs[i].GetResourceVersion() == applied {
			return evs[len(evs)-1], true
		}
	}
	return nil, false
}

// expect notes that the objects ids are about to be applied and waited for, until the returned
// function is called (once, after the wait was listed or the action ended without one).
func (g *waitRegistry) expect(ids []string) func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.expecting == nil {
		g.expecting, g.early = map[string]int{}, map[string][]*unstructured.Unstructured{}
	}
	for _, id := range ids {
		g.expecting[id]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			for _, id := range ids {
				if g.expecting[id]--; g.expecting[id] <= 0 {
					delete(g.expecting, id)
					delete(g.early, id)
				}
			}
		})
	}
}

// admit says whether a Release may start an install or upgrade while limit waits are the most
// allowed (0: no limit): yes while fewer are waiting; otherwise the Release joins the line of
// held ones, once, and the number waiting is returned.
func (g *waitRegistry) admit(key types.NamespacedName, limit int) (bool, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := len(g.indexed) + len(g.reserved)
	if limit <= 0 || n < limit {
		if g.heldSet[key] {
			delete(g.heldSet, key)
			g.held = slicesDelete(g.held, key)
		}
		if limit > 0 {
			if g.reserved == nil {
				g.reserved = map[types.NamespacedName]bool{}
			}
			g.reserved[key] = true
		}
		return true, n
	}
	g.hold(key)
	return false, n
}

// stillHeld reports whether key waits in line while limit waits are under way (or reserved), so
// that admit would refuse it, and how many are.
func (g *waitRegistry) stillHeld(key types.NamespacedName, limit int) (bool, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := len(g.indexed) + len(g.reserved)
	return limit > 0 && g.heldSet[key] && n >= limit, n
}

// holdIfFull puts key in line, once, if limit waits are under way (or reserved), and says
// whether it did (or it was in line already) and how many are; with a free place it does nothing.
func (g *waitRegistry) holdIfFull(key types.NamespacedName, limit int) (bool, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := len(g.indexed) + len(g.reserved)
	if limit <= 0 || n < limit {
		return false, n
	}
	g.hold(key)
	return true, n
}

// hold puts key at the end of the line unless it is in line already. g.mu is held.
func (g *waitRegistry) hold(key types.NamespacedName) {
	if g.heldSet == nil {
		g.heldSet = map[types.NamespacedName]bool{}
	}
	if !g.heldSet[key] {
		g.heldSet[key] = true
		g.held = append(g.held, key)
	}
}

// unhold takes key out of the line: its Release no longer needs a place (it was deleted or
// suspended, or its action is no install or upgrade any more).
func (g *waitRegistry) unhold(key types.NamespacedName) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.heldSet[key] {
		delete(g.heldSet, key)
		g.held = slicesDelete(g.held, key)
	}
}

// unreserve ends the reservation of an admitted Release whose action ended without parking (a
// parked one's reservation became its wait), and returns the held Release its place goes to.
func (g *waitRegistry) unreserve(key types.NamespacedName) (types.NamespacedName, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.reserved[key] {
		return types.NamespacedName{}, false
	}
	delete(g.reserved, key)
	return g.release()
}

// release takes the oldest held Release off the line, for a wait that just ended to wake it.
func (g *waitRegistry) release() (types.NamespacedName, bool) {
	if len(g.held) == 0 {
		return types.NamespacedName{}, false
	}
	key := g.held[0]
	g.held = g.held[1:]
	delete(g.heldSet, key)
	return key, true
}

// slicesDelete removes key from keys.
func slicesDelete(keys []types.NamespacedName, key types.NamespacedName) []types.NamespacedName {
	return slices.DeleteFunc(keys, func(k types.NamespacedName) bool { return k == key })
}

// put parks w and lists it under the objects it awaits. The first time, it hands w the latest
// event of each of its objects that came after the apply's own (see expect, afterApply), and
// reports whether there were any: the Release should then look again at once.
func (g *waitRegistry) put(w *waiting) (changed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.parked == nil {
		g.parked, g.byObject, g.indexed = map[types.UID]*waiting{}, map[string]map[*waiting]bool{}, map[*waiting][]string{}
	}
	g.parked[w.uid] = w
	if _, ok := g.indexed[w]; ok {
		return false
	}
	delete(g.reserved, w.key) // the reservation becomes the wait
	ids := make([]string, 0, len(w.report.NotReady))
	for _, ref := range w.report.Pending() {
		id := ref.ID()
		if g.byObject[id] == nil {
			g.byObject[id] = map[*waiting]bool{}
		}
		g.byObject[id][w] = true
		ids = append(ids, id)
		if obj, ok := afterApply(g.early[id], w.appliedVersions[id]); ok {
			g.keep(w, id, obj)
			changed = true
		}
	}
	g.indexed[w] = ids
	return changed
}

// take unparks the wait of a Release for a reconcile to look at; it stays listed under its
// objects until it is dropped.
func (g *waitRegistry) take(uid types.UID) *waiting {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.parked[uid]
	delete(g.parked, uid)
	return w
}

// takeAll unparks every wait.
func (g *waitRegistry) takeAll() []*waiting {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*waiting, 0, len(g.parked))
	for uid, w := range g.parked {
		out = append(out, w)
		delete(g.parked, uid)
	}
	return out
}

// drop forgets a wait that ended and returns the held Release its place goes to, if any.
func (g *waitRegistry) drop(w *waiting) (types.NamespacedName, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, known := g.indexed[w]
	if g.parked[w.uid] == w {
		delete(g.parked, w.uid)
	}
	for _, id := range g.indexed[w] {
		delete(g.byObject[id], w)
		if len(g.byObject[id]) == 0 {
			delete(g.byObject, id)
		}
	}
	delete(g.indexed, w)
	if !known {
		return types.NamespacedName{}, false
	}
	return g.release()
}

// changed keeps obj as the latest state of the object for the waits that await it (forgets
// what they kept of it when obj is nil), and returns their Releases.
func (g *waitRegistry) changed(ref apply.ObjectRef, obj *unstructured.Unstructured) []types.NamespacedName {
	g.mu.Lock()
	defer g.mu.Unlock()
	id := ref.ID()
	if g.expecting[id] > 0 {
		evs := append(g.early[id], obj)
		if len(evs) > maxEarly {
			evs = evs[1:]
		}
		g.early[id] = evs
	}
	ws := g.byObject[id]
	out := make([]types.NamespacedName, 0, len(ws))
	for w := range ws {
		g.keep(w, id, obj)
		out = append(out, w.key)
	}
	return out
}

// keep keeps obj, the latest state of object id, for w's next look; nil (deleted) forgets it, so
// that the look reads it. g.mu is held.
func (g *waitRegistry) keep(w *waiting, id string, obj *unstructured.Unstructured) {
	switch {
	case obj == nil:
		delete(w.seen, id)
	case w.seen == nil:
		w.seen = map[string]*unstructured.Unstructured{id: obj}
	default:
		w.seen[id] = obj
	}
}

// takeSeen returns the objects kept for w's next look, and forgets them.
func (g *waitRegistry) takeSeen(w *waiting) map[string]*unstructured.Unstructured {
	g.mu.Lock()
	defer g.mu.Unlock()
	seen := w.seen
	w.seen = nil
	return seen
}

// len returns how many waits are parked.
func (g *waitRegistry) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.parked)
}
