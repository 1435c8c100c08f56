// Package engine renders a chart's templates exactly as Helm v4.3.1 does: one text/template set
// across the chart and all its subcharts, Helm's naming, parse order and define precedence, the
// .Values/.Chart/.Release/.Capabilities/.Files/.Template/.Subcharts objects, sprig plus Helm's own
// functions (include, tpl, required, toYaml, lookup, ...) and Helm's error texts.
//
// Unlike Helm, rendering is bounded: it runs under a deadline that also stops runaway loops and
// recursion, and the functions that can build large values (until, repeat, printf, include, tpl,
// the encoders, ...) are checked against size limits, so a hostile chart or values file fails
// with ErrTimeout or ErrLimit instead of taking the controller down. The package is pure: it never
// touches the network or a cluster except through the Lookup interface its caller provides.
package engine
