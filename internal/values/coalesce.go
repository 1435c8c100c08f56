package values

import (
	"fmt"

	"github.com/capstan-dev/capstan/internal/chart"
)

// globalKey is the values key that flows from parents down to subcharts.
const globalKey = "global"

// Coalesce returns the values the template engine sees for ch: a deep copy of userValues with
// ch's defaults under it, and under every subchart's key that subchart's defaults, recursively,
// following Helm v4.3.1 exactly:
//
//   - user values win over chart defaults; maps merge recursively, lists and scalars replace;
//   - a user null removes a key that a chart default sets, and stays an explicit null when no
//     default exists; nulls in a chart's own values.yaml are dropped;
//   - when the user also gives a subchart's section, the parent's values for that subchart keep
//     their nulls until the subchart is coalesced, so such a null removes the subchart's default;
//   - global is copied down (parents win) into every subchart's section; its first-level keys
//     never flow up, but deeper tables are shared between parent and children as in Helm;
//   - a subchart key that holds a non-map (including null with no default) is an error.
//
// docs/values.md lists the Helm quirks this reproduces on purpose.
//
// Neither ch.Values nor userValues is modified. values["<subchart>"] is each subchart's table.
func (c Composer) Coalesce(ch *chart.Chart, userValues map[string]any) (map[string]any, error) {
	dest := deepCopyMap(userValues)
	if dest == nil {
		dest = map[string]any{}
	}
	return c.coalesce(ch, dest, "", false)
}

// coalesce merges ch's defaults into dest and then recurses into ch's subcharts. With merge
// set, nulls are kept (Helm's MergeValues, used while importing values).
func (c Composer) coalesce(ch *chart.Chart, dest map[string]any, prefix string, merge bool) (map[string]any, error) {
	c.coalesceValues(ch, dest, prefix, merge)
	return c.coalesceDeps(ch, dest, prefix, merge)
}

func (c Composer) coalesceDeps(ch *chart.Chart, dest map[string]any, prefix string, merge bool) (map[string]any, error) {
	for _, sub := range ch.Dependencies() {
		name := sub.Name()
		cur, ok := dest[name]
		if !ok {
			cur = map[string]any{}
			dest[name] = cur
		}
		table, ok := cur.(map[string]any)
		if !ok {
			// Helm formats the offending value with %t, which prints e.g. %!t(<nil>).
			return nil, fmt.Errorf("type mismatch on %s: %t", name, cur)
		}
		subPrefix := joinPrefix(prefix, ch.Name())
		c.coalesceGlobals(table, dest, subPrefix)
		out, err := c.coalesce(sub, table, subPrefix, merge)
		if err != nil {
			return nil, err
		}
		dest[name] = out
	}
	return dest, nil
}

// coalesceGlobals copies the parent's global table into the child's, the parent winning. Map
// values are copied one level deep only, so deeper maps stay shared with the parent as in Helm.
func (c Composer) coalesceGlobals(dest, src map[string]any, prefix string) {
	dg := map[string]any{}
	if cur, ok := dest[globalKey]; ok {
		if dg, ok = cur.(map[string]any); !ok {
			c.warnf("warning: skipping globals because destination %s is not a table.", globalKey)
			return
		}
	}
	sg := map[string]any{}
	if cur, ok := src[globalKey]; ok {
		if sg, ok = cur.(map[string]any); !ok {
			c.warnf("warning: skipping globals because source %s is not a table.", globalKey)
			return
		}
	}
	for _, key := range sortedKeys(sg) {
		c.mergeGlobal(dg, key, sg[key], prefix)
	}
	dest[globalKey] = dg
}

func (c Composer) mergeGlobal(dg map[string]any, key string, val any, prefix string) {
	src, isMap := val.(map[string]any)
	if !isMap {
		if isTable(dg[key]) {
			c.warnf("key %s is table. Skipping", key)
			return
		}
		dg[key] = val
		return
	}
	vv := make(map[string]any, len(src))
	for k, v := range src {
		vv[k] = v
	}
	cur, ok := dg[key]
	if !ok {
		dg[key] = vv
		return
	}
	curMap, ok := cur.(map[string]any)
	if !ok {
		c.warnf("Conflict: cannot merge map onto non-map for %q. Skipping.", key)
		return
	}
	c.coalesceTables(vv, curMap, joinPrefix(prefix, key), true)
	dg[key] = vv
}

// coalesceValues merges a deep copy of ch's own defaults under v.
func (c Composer) coalesceValues(ch *chart.Chart, v map[string]any, prefix string, merge bool) {
	subPrefix := joinPrefix(prefix, ch.Name())
	defaults := deepCopyMap(ch.Values)
	for _, key := range sortedKeys(defaults) {
		val := defaults[key]
		cur, ok := v[key]
		if !ok {
			if !merge {
				if val == nil {
					continue
				}
				if m, isMap := val.(map[string]any); isMap {
					cleanNils(m)
				}
			}
			v[key] = val
			continue
		}
		if cur == nil && !merge {
			// The user removed the key.
			delete(v, key)
			continue
		}
		dst, ok := cur.(map[string]any)
		if !ok {
			continue
		}
		src, ok := val.(map[string]any)
		if !ok {
			if val != nil {
				c.warnf("warning: skipped value for %s.%s: Not a table.", subPrefix, key)
			}
			continue
		}
		keepNils := merge || isSubchart(ch, key)
		if !keepNils {
			cleanNils(src)
		}
		c.coalesceTables(dst, src, joinPrefix(subPrefix, key), keepNils)
	}
}

// coalesceTables merges src under dst (dst wins) in place and returns dst. Unless merge is set,
// a null in dst removes the key when src had a non-null value for it.
func (c Composer) coalesceTables(dst, src map[string]any, prefix string, merge bool) map[string]any {
	if src == nil {
		return dst
	}
	if dst == nil {
		return src
	}
	srcNonNil := make(map[string]bool, len(src))
	for k, v := range src {
		if v != nil {
			srcNonNil[k] = true
		}
	}
	for k, v := range dst {
		if v == nil {
			src[k] = nil
		}
	}
	for _, key := range sortedKeys(src) {
		c.coalesceKey(dst, src, key, joinPrefix(prefix, key), merge, srcNonNil[key])
	}
	return dst
}

func (c Composer) coalesceKey(dst, src map[string]any, key, fullKey string, merge, srcNonNil bool) {
	val := src[key]
	dv, ok := dst[key]
	switch {
	case ok && !merge && dv == nil && srcNonNil:
		delete(dst, key)
	case !ok:
		dst[key] = val
	case isTable(val):
		sm, _ := val.(map[string]any)
		if dm, isMap := dv.(map[string]any); isMap {
			c.coalesceTables(dm, sm, fullKey, merge)
			return
		}
		c.warnf("warning: cannot overwrite table with non table for %s (%v)", fullKey, val)
	case isTable(dv) && val != nil:
		c.warnf("warning: destination for %s is a table. Ignoring non-table value (%v)", fullKey, val)
	}
}

// cleanNils removes null entries from m and from the maps nested in it (not inside lists).
func cleanNils(m map[string]any) {
	for k, v := range m {
		if v == nil {
			delete(m, k)
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			cleanNils(sub)
		}
	}
}

// isSubchart reports whether key names one of ch's (processed) subcharts.
func isSubchart(ch *chart.Chart, key string) bool { return hasSubchart(ch, key) }

func joinPrefix(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}
