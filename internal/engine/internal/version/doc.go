// Package version holds BuildInfo, the type of .Capabilities.HelmVersion. It is a package of its
// own so that reflection names the type version.BuildInfo, as Helm's does.
package version
