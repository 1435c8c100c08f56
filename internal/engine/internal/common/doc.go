// Package common holds the types a chart template sees as .Values, .Template and .Capabilities.
// They live in a package named common so that reflection names them as Helm does
// (common.Values, *common.Capabilities): text/template prints those names in its error messages
// and sprig's typeOf returns them, so rendering errors and output stay identical to Helm's.
package common
