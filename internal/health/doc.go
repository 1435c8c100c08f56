// Package health decides whether the objects a revision applied are ready, the way kstatus sees them:
// Deployments available, StatefulSets and DaemonSets rolled out, Jobs complete, CRDs established, and
// custom resources Ready. A Checker reads each object through the client it is given (so impersonation
// is the caller's choice), computes its status with kstatus plus a few stricter rules of Capstan's own
// (a Job is ready only once it has completed, a Pod that failed has failed), and reports the objects that
// are not ready yet in a sorted, bounded, one-line summary fit for a condition message. Wait polls until
// every object is ready, stops early when one has failed, and returns as soon as its context is cancelled,
// so the reconciler can abandon a wait when a new generation arrives.
package health
