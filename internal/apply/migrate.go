package apply

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/util/csaupgrade"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// migrateAttempts bounds the retries of a field-ownership migration that lost a race with another
// write of the object.
const migrateAttempts = 5

// applyMarker names, inside a migration, the server-side apply entry of a manager whose fields
// are taken over: csaupgrade merges only Update entries, so an Apply entry (helm v4 applies
// server-side) is handed to it as an Update entry of a manager of its own.
const applyMarker = "\x00apply"

// MigrationPatch returns the JSON patch that hands every field the managers own in obj, through
// client-side writes (Update) or server-side apply, to Capstan's field manager, as
// k8s.io/client-go/util/csaupgrade does for a client-side-apply to server-side-apply upgrade;
// nil when none of them owns a field of the object itself (subresources such as status and
// scale are left alone). The patch replaces metadata.managedFields and is guarded by obj's
// resourceVersion. Once applied, Capstan's next apply removes the fields it no longer applies,
// as it does for fields only it ever wrote.
func MigrationPatch(obj *unstructured.Unstructured, managers []string) ([]byte, error) {
	from := sets.New(managers...)
	entries := obj.GetManagedFields()
	names := sets.New[string]()
	for i, e := range entries {
		if !from.Has(e.Manager) || e.Subresource != "" {
			continue
		}
		if e.Operation == metav1.ManagedFieldsOperationApply {
			entries[i].Manager, entries[i].Operation = e.Manager+applyMarker, metav1.ManagedFieldsOperationUpdate
		}
		names.Insert(entries[i].Manager)
	}
	if names.Len() == 0 {
		return nil, nil
	}
	marked := obj.DeepCopy()
	marked.SetManagedFields(entries)
	return csaupgrade.UpgradeManagedFieldsPatch(marked, names, FieldManager)
}

// ownedBy reports whether one of managers owns fields of obj itself (not of a subresource).
func ownedBy(obj *unstructured.Unstructured, managers []string) bool {
	for _, e := range obj.GetManagedFields() {
		if e.Subresource == "" && sets.New(managers...).Has(e.Manager) {
			return true
		}
	}
	return false
}

// migrate hands the fields TakeOver's managers own in live to Capstan's field manager, reading
// the object again when another write won the race. It reports whether it patched.
func (a *Applier) migrate(ctx context.Context, live *unstructured.Unstructured) (bool, error) {
	ref := RefOf(live)
	var err error
	for range migrateAttempts {
		var patch []byte
		if patch, err = MigrationPatch(live, a.opts.TakeOver); err != nil || patch == nil {
			return false, err
		}
		target := live.DeepCopy()
		err = a.client.Patch(ctx, target, client.RawPatch(types.JSONPatchType, patch), client.FieldOwner(FieldManager))
		if err == nil {
			return true, nil
		}
		if !apierrors.IsConflict(err) {
			break
		}
		if live, err = a.get(ctx, ref); err != nil {
			break
		}
	}
	return false, fmt.Errorf("handing the fields of %v to %s: %w", a.opts.TakeOver, FieldManager, err)
}
