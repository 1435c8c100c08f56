package main

import "github.com/capstan-dev/capstan/internal/render/cli"

// The template command lives in internal/render/cli so the conformance suite can run it in
// process; here it is only registered.
func init() { register(cli.NewTemplateCommand) }
