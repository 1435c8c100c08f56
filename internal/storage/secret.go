package storage

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// The shape of a release Secret, as Helm's Secret driver writes it.
const (
	// SecretType is the type of every release Secret.
	SecretType corev1.SecretType = "helm.sh/release.v1" //nolint:gosec // G101: a Secret type name, not a credential.
	// DataKey is the key of the encoded record in the Secret's data.
	DataKey = "release"
	// NamePrefix starts the name of every release Secret: NamePrefix + "<release>.v<revision>".
	NamePrefix = "sh.helm.release.v1."
	// Owner is the value of the owner label; Helm lists only records with owner=helm.
	Owner = "helm"
	// MaxSecretSize is the apiserver's limit on the summed size of a Secret's data values.
	MaxSecretSize = corev1.MaxSecretSize
	// MaxReleaseNameLen is Helm's limit on release names.
	MaxReleaseNameLen = 53
)

// The labels Helm reserves on a release Secret. Users' labels may not use these keys.
const (
	LabelName       = "name"
	LabelOwner      = "owner"
	LabelStatus     = "status"
	LabelVersion    = "version"
	LabelCreatedAt  = "createdAt"
	LabelModifiedAt = "modifiedAt"
)

var reservedLabels = []string{LabelName, LabelOwner, LabelStatus, LabelVersion, LabelCreatedAt, LabelModifiedAt}

// releaseNamePattern is Helm's release name rule: DNS-1123 labels joined by dots.
var releaseNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// IsReservedLabel reports whether key is one of the labels Helm manages on a release Secret.
func IsReservedLabel(key string) bool { return slices.Contains(reservedLabels, key) }

// ValidateName checks a release name the way Helm does (at most 53 characters, lower-case DNS
// labels joined by dots). Storage refuses other names, so a name can never widen a label selector.
func ValidateName(name string) error {
	if name == "" || len(name) > MaxReleaseNameLen || !releaseNamePattern.MatchString(name) {
		return fmt.Errorf("%w: release name %q must be at most %d characters of lower-case letters, digits, '-' and '.'",
			ErrInvalid, name, MaxReleaseNameLen)
	}
	return nil
}

func validateNamespace(ns string) error {
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return fmt.Errorf("%w: namespace %q: %s", ErrInvalid, ns, strings.Join(errs, "; "))
	}
	return nil
}

// validateLabels checks the user's labels: valid keys and values, and no reserved key.
func validateLabels(labels map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if IsReservedLabel(k) {
			return fmt.Errorf("%w: label %q is reserved for the release record", ErrInvalid, k)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return fmt.Errorf("%w: label key %q: %s", ErrInvalid, k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(labels[k]); len(errs) > 0 {
			return fmt.Errorf("%w: label %q value: %s", ErrInvalid, k, strings.Join(errs, "; "))
		}
	}
	return nil
}

// SecretName returns the name of the Secret holding one revision: sh.helm.release.v1.<name>.v<N>.
func SecretName(name string, version int) string {
	return NamePrefix + name + ".v" + strconv.Itoa(version)
}

// ParseSecretName splits a release Secret's name into release name and revision. ok is false for
// names that are not of that form.
func ParseSecretName(secretName string) (name string, version int, ok bool) {
	rest, found := strings.CutPrefix(secretName, NamePrefix)
	if !found {
		return "", 0, false
	}
	i := strings.LastIndex(rest, ".v")
	if i <= 0 {
		return "", 0, false
	}
	version, err := strconv.Atoi(rest[i+2:])
	if err != nil || version < 1 || strconv.Itoa(version) != rest[i+2:] {
		return "", 0, false
	}
	return rest[:i], version, true
}

// validateRecord checks what every stored record must have.
func validateRecord(rel *Release) error {
	if rel == nil {
		return fmt.Errorf("%w: nil release", ErrInvalid)
	}
	if err := ValidateName(rel.Name); err != nil {
		return err
	}
	if err := validateNamespace(rel.Namespace); err != nil {
		return err
	}
	if rel.Version < 1 {
		return fmt.Errorf("%w: release %q: version %d, want at least 1", ErrInvalid, rel.Name, rel.Version)
	}
	if !rel.Info.Status.IsKnown() {
		return fmt.Errorf("%w: release %q: status %q", ErrInvalid, rel.Name, rel.Info.Status)
	}
	return validateLabels(rel.Labels)
}

// CheckSize encodes the record and returns its size in data.release, or an error wrapping
// ErrTooLarge when it would not fit in a Secret. Call it before applying anything, so an
// oversized release fails without touching the cluster.
func CheckSize(rel *Release) (int, error) {
	enc, err := Encode(rel)
	if err != nil {
		return 0, err
	}
	return len(enc), checkEncodedSize(rel.Name, len(enc))
}

func checkEncodedSize(name string, n int) error {
	if n > MaxSecretSize {
		return fmt.Errorf("%w: release %q record is %d bytes after compression, over the %d-byte Secret limit; "+
			"reduce the rendered manifest, hooks or values", ErrTooLarge, name, n, MaxSecretSize)
	}
	return nil
}

// NewSecret returns the Secret that stores rel, as Helm's Secret driver writes it on create:
// the user's labels plus name, owner, status, version and createdAt (unix seconds).
func NewSecret(rel *Release, now time.Time) (*corev1.Secret, error) {
	if err := validateRecord(rel); err != nil {
		return nil, err
	}
	enc, err := Encode(rel)
	if err != nil {
		return nil, err
	}
	if err := checkEncodedSize(rel.Name, len(enc)); err != nil {
		return nil, err
	}
	labels := maps.Clone(rel.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelCreatedAt] = strconv.FormatInt(now.Unix(), 10)
	setSystemLabels(labels, rel)
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: SecretName(rel.Name, rel.Version), Namespace: rel.Namespace, Labels: labels},
		Type:       SecretType,
		Data:       map[string][]byte{DataKey: []byte(enc)},
	}, nil
}

func setSystemLabels(labels map[string]string, rel *Release) {
	labels[LabelName] = rel.Name
	labels[LabelOwner] = Owner
	labels[LabelStatus] = rel.Info.Status.String()
	labels[LabelVersion] = strconv.Itoa(rel.Version)
}

// FromSecret decodes the record a release Secret holds and checks it against the Secret's name
// and namespace. A Secret that is not a release record at all (wrong name form) returns an error
// wrapping ErrInvalid; a release Secret whose content cannot be trusted returns a placeholder
// (name, namespace, version from the Secret, status unknown) together with an error wrapping
// ErrCorrupt.
func FromSecret(s *corev1.Secret, maxDecoded int64) (*Release, error) {
	name, version, ok := ParseSecretName(s.Name)
	if !ok {
		return nil, fmt.Errorf("%w: secret %s/%s is not a release record", ErrInvalid, s.Namespace, s.Name)
	}
	rel, err := decodeSecret(s, name, version, maxDecoded)
	if err != nil {
		err = fmt.Errorf("secret %s/%s: %w", s.Namespace, s.Name, err)
		rel = &Release{Name: name, Namespace: s.Namespace, Version: version, Info: Info{Status: StatusUnknown}, decodeErr: err}
	}
	rel.Labels = userLabels(s.Labels)
	rel.resourceVersion = s.ResourceVersion
	return rel, err
}

func decodeSecret(s *corev1.Secret, name string, version int, maxDecoded int64) (*Release, error) {
	data, ok := s.Data[DataKey]
	if !ok {
		return nil, fmt.Errorf("%w: no %q key in data", ErrCorrupt, DataKey)
	}
	rel, err := DecodeWithLimit(string(data), maxDecoded)
	if err != nil {
		return nil, err
	}
	if rel.Name != name || rel.Version != version {
		return nil, fmt.Errorf("%w: record says %s version %d", ErrCorrupt, rel.Name, rel.Version)
	}
	if rel.Namespace == "" {
		rel.Namespace = s.Namespace
	}
	if rel.Namespace != s.Namespace {
		return nil, fmt.Errorf("%w: record says namespace %q", ErrCorrupt, rel.Namespace)
	}
	return rel, nil
}

// userLabels returns the labels that are not Helm's reserved ones, or nil if there are none.
func userLabels(labels map[string]string) map[string]string {
	var out map[string]string
	for k, v := range labels {
		if IsReservedLabel(k) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}
