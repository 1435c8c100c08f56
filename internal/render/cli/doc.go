// Package cli holds the `capstan template` and `capstan lint` commands. They live here, beside
// the render pipeline they drive, rather than in package main so that the conformance suite can
// run exactly the command users run, in process. cmd/capstan only registers them.
package cli
